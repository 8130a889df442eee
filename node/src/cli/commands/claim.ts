import type { Command } from "commander";
import { claim } from "../../chain/actions/index.js";
import {
  emit,
  formatLearn,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/** `protolearn claim`: pull the rewards the run has accrued to you. */
export function registerClaim(program: Command, io: CliIo): void {
  withChainOptions(program.command("claim").description("claim your accrued rewards from the run"))
    .addHelpText("after", "\nExample:\n  $ protolearn claim")
    .action(async (flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const { run } = ctx.chain.contracts;
      const member = await run.read.memberOf([ctx.me]);
      if (member.rewards === 0n) {
        // Not an error: claiming zero would only burn gas, so nothing is sent.
        emit(
          io,
          ctx.json,
          { account: ctx.me, runId: ctx.config.runId, claimed: 0n, transaction: null },
          () => `no rewards have accrued to ${ctx.me} in run ${ctx.config.runId}; nothing was sent`,
        );
        return;
      }
      const sent = await sendTx(ctx, claim, { label: `claim ${formatLearn(member.rewards)}` });
      emit(
        io,
        ctx.json,
        {
          account: ctx.me,
          runId: ctx.config.runId,
          claimed: member.rewards,
          transaction: sent.hash,
        },
        () => [`claimed  ${formatLearn(member.rewards)}`, `tx       ${sent.hash}`].join("\n"),
      );
    });
}
