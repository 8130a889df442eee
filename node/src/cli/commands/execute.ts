import type { Command } from "commander";
import { execute } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import { descriptionHash } from "../../governance/index.js";
import {
  describeTime,
  emit,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";
import { loadProposal } from "./proposals.js";

/** `protolearn execute <proposalId>`: run a queued proposal's calls through the timelock once its delay passed. */
export function registerExecute(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("execute")
      .description("execute a queued proposal after the timelock delay (anyone may)")
      .argument("<proposalId>", "proposal id (from `protolearn proposals`)"),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn execute 4242…17")
    .action(async (idText: string, flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const p = await loadProposal(ctx, idText);
      const block = await ctx.chain.publicClient.getBlock();
      if (p.state !== "Queued") {
        throw new ProtolearnError(
          `proposal ${p.id} is ${p.state}; only a Queued proposal can be executed`,
          {
            code: "CLI_PROPOSAL_STATE",
            fix:
              p.state === "Succeeded"
                ? `queue it first with \`protolearn queue ${p.id}\``
                : "see `protolearn proposals` for its state",
          },
        );
      }
      // The timelock accepts execution at eta exactly; the next block's timestamp is at least now + 1.
      if (p.eta > block.timestamp + 1n) {
        throw new ProtolearnError(
          `proposal ${p.id} is queued but its timelock delay runs until ${describeTime(p.eta, block.timestamp)}`,
          {
            code: "CLI_TIMELOCK_PENDING",
            fix: "run `protolearn execute` again after that time",
          },
        );
      }
      const sent = await sendTx(ctx, execute, {
        targets: p.targets,
        values: p.values,
        calldatas: p.calldatas,
        descriptionHash: descriptionHash(p.description),
        label: `execute proposal ${idText}`,
      });
      emit(
        io,
        ctx.json,
        { proposalId: p.id, kind: p.kind, summary: p.summary, transaction: sent.hash },
        () =>
          [`executed   ${p.id}`, `did        ${p.summary}`, `tx         ${sent.hash}`].join("\n"),
      );
    });
}
