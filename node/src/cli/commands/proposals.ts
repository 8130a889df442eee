import type { Command } from "commander";
import {
  describeActions,
  findProposal,
  listProposals,
  parseProposalId,
  proposalStatus,
  type ProposalRecord,
  type ProposalStatus,
} from "../../governance/index.js";
import { table } from "../output.js";
import {
  describeTime,
  emit,
  formatLearn,
  openRead,
  withChainOptions,
  type ChainFlags,
  type CliIo,
  type CliReadContext,
} from "../context.js";

/** A proposal with its live state, for `proposals`, `vote`, `queue` and `execute`. */
export interface ProposalView extends ProposalRecord, ProposalStatus {
  kind: string;
  summary: string;
}

/** Reads `record`'s state and tally and decodes what its calls do. */
export async function viewProposal(
  ctx: CliReadContext,
  record: ProposalRecord,
): Promise<ProposalView> {
  const status = await proposalStatus(ctx.chain, record.id, record.voteStart);
  const { kind, summary } = describeActions(
    {
      runs: ctx.deployment.runs,
      stakeManager: ctx.deployment.contracts.StakeManager,
      token: ctx.deployment.contracts.LearnToken,
      factory: ctx.deployment.contracts.RunFactory,
    },
    record.targets,
    record.calldatas,
  );
  return { ...record, ...status, kind, summary };
}

/** The proposal named on the command line, rebuilt from its ProposalCreated event. */
export async function loadProposal(ctx: CliReadContext, idText: string): Promise<ProposalView> {
  return viewProposal(ctx, await findProposal(ctx.chain, parseProposalId(idText)));
}

/** "block 120 (in 7 blocks)" relative to the head. */
export function describeBlock(block: bigint, head: bigint): string {
  const delta = block - head;
  return `block ${block} (${delta === 0n ? "now" : delta > 0n ? `in ${delta} blocks` : `${-delta} blocks ago`})`;
}

function shortId(id: bigint): string {
  const text = id.toString();
  return text.length > 14 ? `${text.slice(0, 6)}…${text.slice(-6)}` : text;
}

/** `protolearn proposals [--json]`: every proposal with its state, tally, deadlines and eta. Read-only. */
export function registerProposals(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("proposals")
      .description(
        "list governance proposals: kind, description, state, votes, deadlines, eta (read-only)",
      )
      .option("--open", "only proposals that still need a vote, queue or execute", false),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  $ protolearn proposals\n  $ protolearn proposals --json | jq '.proposals[] | {id, state}'",
    )
    .action(async (flags: ChainFlags & { open: boolean }) => {
      const ctx = await openRead(flags, io);
      const block = await ctx.chain.publicClient.getBlock();
      const all = await Promise.all(
        (await listProposals(ctx.chain)).map((r) => viewProposal(ctx, r)),
      );
      const shown = flags.open
        ? all.filter((p) => ["Pending", "Active", "Succeeded", "Queued"].includes(p.state))
        : all;
      emit(
        io,
        ctx.json,
        { block: block.number, chainTime: block.timestamp, proposals: shown },
        () => {
          if (shown.length === 0) return "no proposals yet — create one with `protolearn propose`";
          const rows = shown.map((p) => [
            shortId(p.id),
            p.kind,
            p.state,
            `${formatLearn(p.forVotes)} / ${formatLearn(p.againstVotes)} / ${formatLearn(p.abstainVotes)}`,
            p.state === "Pending"
              ? `opens ${describeBlock(p.voteStart + 1n, block.number)}`
              : p.state === "Active"
                ? `ends ${describeBlock(p.voteEnd, block.number)}`
                : `ended block ${p.voteEnd}`,
            p.eta > 0n ? describeTime(p.eta, block.timestamp) : "-",
          ]);
          const details = shown.map(
            (p) =>
              `${p.id}\n  ${p.description}\n  calls: ${p.summary}; quorum ${formatLearn(p.quorum)}`,
          );
          return [
            table(["id", "kind", "state", "for / against / abstain", "voting", "eta"], rows),
            "",
            ...details,
          ].join("\n");
        },
      );
    });
}
