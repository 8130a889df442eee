import type { Command } from "commander";
import { finalizeRound } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import {
  describeTime,
  emit,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";
import { phaseName } from "../../run/round-phase.js";

/** `protolearn finalize`: the permissionless finalizeRound of the current round, once its score phase closed. */
export function registerFinalize(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("finalize")
      .description(
        "finalize the current round after its score deadline (anyone may; nodes with keeper=true do it)",
      ),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn finalize")
    .action(async (flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const { run } = ctx.chain.contracts;
      const [info, phase, block] = await Promise.all([
        run.read.currentRound(),
        run.read.phase(),
        ctx.chain.publicClient.getBlock(),
      ]);
      if (phaseName(phase) === "halted") {
        throw new ProtolearnError(`run ${ctx.config.runId} was halted for good by governance; its last round ${info.round} is finalized`, {
          code: "CLI_RUN_HALTED",
          fix: "no round can be finalized any more; leave the run and withdraw your stake",
        });
      }
      if (info.finalized) {
        throw new ProtolearnError(
          `round ${info.round} is already finalized; the run is paused and the next round opens when governance resumes it`,
          {
            code: "CLI_ROUND_FINALIZED",
            fix: "nothing to do until the run resumes (see `protolearn proposals`)",
          },
        );
      }
      if (block.timestamp <= BigInt(info.scoreDeadline)) {
        throw new ProtolearnError(
          `round ${info.round} is in its ${phaseName(phase)} phase; it can be finalized after the score deadline ${describeTime(BigInt(info.scoreDeadline), block.timestamp)}`,
          { code: "CLI_PHASE_NOT_OPEN", fix: "run `protolearn finalize` again after that time" },
        );
      }
      const sent = await sendTx(ctx, finalizeRound, {
        round: info.round,
        label: `finalize round ${info.round}`,
      });
      const next = await run.read.currentRound();
      emit(
        io,
        ctx.json,
        {
          runId: ctx.config.runId,
          finalizedRound: info.round,
          currentRound: next.round,
          transaction: sent.hash,
        },
        () =>
          [
            `finalized  round ${info.round}`,
            `now        round ${next.round}`,
            `tx         ${sent.hash}`,
          ].join("\n"),
      );
    });
}
