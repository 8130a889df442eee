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

/** `protolearn finalize [--batch n]`: the permissionless finalizeRound of the current round, in batches until settled, once its vote-reveal phase closed. */
export function registerFinalize(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("finalize")
      .description(
        "settle the current round after its vote-reveal deadline, in batches of --batch items (anyone may; nodes with keeper=true do it)",
      )
      .option("--batch <n>", "settlement items per finalizeRound call", "128"),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn finalize --batch 64")
    .action(async (flags: ChainFlags & { batch?: string }) => {
      const batch = Number(flags.batch ?? "128");
      if (!Number.isInteger(batch) || batch < 1) {
        throw new ProtolearnError(`--batch ${flags.batch ?? ""} is not a positive whole number`, {
          code: "CLI_BAD_FLAG",
          fix: "pass --batch 128 (or any whole number of settlement items from 1 up)",
        });
      }
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
      if (block.timestamp <= BigInt(info.voteRevealDeadline)) {
        throw new ProtolearnError(
          `round ${info.round} is in its ${phaseName(phase)} phase; it can be finalized after the vote-reveal deadline ${describeTime(BigInt(info.voteRevealDeadline), block.timestamp)}`,
          { code: "CLI_PHASE_NOT_OPEN", fix: "run `protolearn finalize` again after that time" },
        );
      }
      // Batches until settled; a call that only armed the challenge settles nothing (the
      // randomness is readable from the next block), so the next call goes on.
      let sent = await sendTx(ctx, finalizeRound, { round: info.round, maxItems: batch, label: `finalize round ${info.round}` });
      for (let calls = 1; !sent.done && calls < 1000; calls++) {
        sent = await sendTx(ctx, finalizeRound, { round: info.round, maxItems: batch, label: `finalize round ${info.round}` });
      }
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
