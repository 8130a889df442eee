import type { Command } from "commander";
import { leave } from "../../chain/actions/index.js";
import { Role, roleWord } from "../../chain/contract-enums.js";
import { ProtolearnError } from "../../errors.js";
import {
  emit,
  formatLearn,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/** `protolearn leave`: leave the run and unlock the stake it holds. */
export function registerLeave(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("leave")
      .description("leave the run and unlock your stake (not while your round is unfinalized)"),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn leave && protolearn unstake 1000")
    .action(async (flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const { run, stakeManager } = ctx.chain.contracts;
      const [member, locked] = await Promise.all([
        run.read.memberOf([ctx.me]),
        stakeManager.read.lockedBy([run.address, ctx.me]),
      ]);
      if (member.role === Role.None) {
        throw new ProtolearnError(`${ctx.me} is not a member of run ${ctx.config.runId}`, {
          code: "CLI_NOT_MEMBER",
          fix: "check --run / the config's runId; there is nothing to leave",
        });
      }
      // The simulation rejects leaving while committed in an open round (TrainingRunLeaveWhileActive).
      const sent = await sendTx(ctx, leave, { label: `leave run ${ctx.config.runId}` });
      emit(
        io,
        ctx.json,
        {
          account: ctx.me,
          runId: ctx.config.runId,
          role: roleWord(member.role),
          unlocked: locked,
          transaction: sent.hash,
        },
        () =>
          [
            `left      run ${ctx.config.runId} (was ${roleWord(member.role)})`,
            `unlocked  ${formatLearn(locked)}`,
            `tx        ${sent.hash}`,
          ].join("\n"),
      );
    });
}
