import type { Command } from "commander";
import { isAddressEqual } from "viem";
import { pause } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import {
  emit,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/**
 * `protolearn pause`: the guardian's emergency brake. Only the run's guardian may pause
 * directly; resuming (and pausing by anyone else) goes through governance.
 */
export function registerPause(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("pause")
      .description("guardian only: pause the run from the next round (the open round still settles, slashes included)"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ protolearn pause --config guardian.json\nResume through governance: protolearn propose resume",
    )
    .action(async (flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const { run } = ctx.chain.contracts;
      const [guardian, paused, halted] = await Promise.all([
        run.read.guardian(),
        run.read.paused(),
        run.read.halted(),
      ]);
      if (!isAddressEqual(guardian, ctx.me)) {
        throw new ProtolearnError(
          `${ctx.me} is not the guardian of run ${ctx.config.runId} (the guardian is ${guardian})`,
          {
            code: "CLI_NOT_GUARDIAN",
            fix: "propose the pause to token holders with `protolearn propose pause` instead",
          },
        );
      }
      if (halted || paused) {
        throw new ProtolearnError(
          `run ${ctx.config.runId} is already ${halted ? "halted" : "paused"}`,
          {
            code: "CLI_ALREADY_PAUSED",
            fix: "nothing to do; see `protolearn status`",
          },
        );
      }
      const sent = await sendTx(ctx, pause, { label: `pause run ${ctx.config.runId}` });
      emit(io, ctx.json, { runId: ctx.config.runId, paused: true, transaction: sent.hash }, () =>
        [
          `paused  run ${ctx.config.runId} from the next round (the open round still settles)`,
          `tx      ${sent.hash}`,
          "",
          "resume: `protolearn propose resume` (governance)",
        ].join("\n"),
      );
    });
}
