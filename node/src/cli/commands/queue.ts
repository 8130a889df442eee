import type { Command } from "commander";
import { queue } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import { descriptionHash } from "../../governance/index.js";
import {
  describeTime,
  emit,
  formatLearn,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";
import { describeBlock, loadProposal, type ProposalView } from "./proposals.js";

/** Why a proposal that has not Succeeded cannot be queued, in one sentence. */
function notQueueable(p: ProposalView, head: bigint): ProtolearnError {
  const why: Record<string, string> = {
    Pending: `its vote has not started (opens at ${describeBlock(p.voteStart + 1n, head)})`,
    Active: `its vote is still open (ends at ${describeBlock(p.voteEnd, head)})`,
    Defeated: `it was defeated (for ${formatLearn(p.forVotes)}, against ${formatLearn(p.againstVotes)}, abstain ${formatLearn(p.abstainVotes)}, quorum ${formatLearn(p.quorum)})`,
    Queued: "it is already queued",
    Executed: "it was already executed",
    Canceled: "it was canceled",
    Expired: "it expired",
  };
  return new ProtolearnError(`proposal ${p.id} cannot be queued: ${why[p.state] ?? p.state}`, {
    code: "CLI_PROPOSAL_STATE",
    fix:
      p.state === "Active" || p.state === "Pending"
        ? "queue it after the vote ends, if it passes"
        : p.state === "Queued"
          ? "execute it after its eta with `protolearn execute`"
          : "nothing can be done with it; propose again if needed",
  });
}

/** `protolearn queue <proposalId>`: put a passed proposal into the timelock. */
export function registerQueue(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("queue")
      .description(
        "queue a proposal that passed into the timelock (calls rebuilt from its ProposalCreated event)",
      )
      .argument("<proposalId>", "proposal id (from `protolearn proposals`)"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ protolearn queue 4242…17   # then, after the timelock delay: protolearn execute 4242…17",
    )
    .action(async (idText: string, flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const p = await loadProposal(ctx, idText);
      const head = await ctx.chain.publicClient.getBlockNumber({ cacheTime: 0 });
      if (p.state !== "Succeeded") throw notQueueable(p, head);
      const { governor } = ctx.chain.contracts;
      const sent = await sendTx(ctx, queue, {
        targets: p.targets,
        values: p.values,
        calldatas: p.calldatas,
        descriptionHash: descriptionHash(p.description),
        label: `queue proposal ${idText}`,
      });
      const eta = await governor.read.proposalEta([p.id]);
      const block = await ctx.chain.publicClient.getBlock({
        blockNumber: sent.receipt.blockNumber,
      });
      emit(io, ctx.json, { proposalId: p.id, eta, transaction: sent.hash }, () =>
        [
          `queued     ${p.id}`,
          `executable ${describeTime(eta, block.timestamp)}`,
          `tx         ${sent.hash}`,
          "",
          `then: protolearn execute ${p.id}`,
        ].join("\n"),
      );
    });
}
