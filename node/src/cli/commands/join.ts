import { Option, type Command } from "commander";
import { join } from "../../chain/actions/index.js";
import { Role, roleWord } from "../../chain/contract-enums.js";
import { ProtolearnError } from "../../errors.js";
import {
  emit,
  formatLearn,
  openSigner,
  parseLearnAmount,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/** `protolearn join [--role trainer|validator] [--amount LEARN]`: join the run, locking `amount` (default the role's minimum). */
export function registerJoin(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("join")
      .description("join the run as trainer or validator; locks --amount (default the role's minimum) of your stake")
      .option("--amount <LEARN>", "stake to lock: at least the role's minimum; more wins more seats (default: the config's joinAmount, else the minimum)")
      .addOption(
        new Option("--role <role>", "role in the run (default: the config's role)").choices([
          "trainer",
          "validator",
        ]),
      ),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn join --role validator --amount 2500")
    .action(async (flags: ChainFlags & { role?: "trainer" | "validator"; amount?: string }) => {
      const ctx = await openSigner(flags, io);
      const role = flags.role ?? (ctx.config.role === "both" ? undefined : ctx.config.role);
      if (role === undefined) {
        throw new ProtolearnError(
          "the config's role is `both`, but a run member has exactly one role",
          {
            code: "CLI_ROLE_REQUIRED",
            fix: "pass --role trainer or --role validator",
          },
        );
      }
      const { run, stakeManager } = ctx.chain.contracts;
      const [member, params, free, halted] = await Promise.all([
        run.read.memberOf([ctx.me]),
        run.read.params(),
        stakeManager.read.freeStakeOf([ctx.me]),
        run.read.halted(),
      ]);
      if (halted) {
        throw new ProtolearnError(`run ${ctx.config.runId} was halted for good by governance`, {
          code: "CLI_RUN_HALTED",
          fix: "join another run with --run <id>; stake is unlocked, so you may also unstake",
        });
      }
      if (member.role !== Role.None) {
        throw new ProtolearnError(
          `${ctx.me} is already a ${roleWord(member.role)} of run ${ctx.config.runId}`,
          {
            code: "CLI_ALREADY_JOINED",
            fix: "`protolearn leave` first if you want to change role",
          },
        );
      }
      const minimum = role === "trainer" ? params.minTrainerStake : params.minValidatorStake;
      const amountText = flags.amount ?? ctx.config.joinAmount;
      const needed = amountText === undefined ? minimum : parseLearnAmount(amountText, "--amount");
      if (needed < minimum) {
        throw new ProtolearnError(
          `a ${role} locks at least ${formatLearn(minimum)} in run ${ctx.config.runId}; ${formatLearn(needed)} is below it`,
          {
            code: "CLI_LOCK_BELOW_MINIMUM",
            fix: `pass --amount ${formatLearn(minimum).replace(/ LEARN$/, "")} or more (or leave --amount out to lock the minimum)`,
          },
        );
      }
      if (free < needed) {
        throw new ProtolearnError(
          `joining as ${role} locks ${formatLearn(needed)}, but only ${formatLearn(free)} of your stake is free`,
          {
            code: "CLI_INSUFFICIENT_STAKE",
            fix: `stake at least ${formatLearn(needed - free)} more with \`protolearn stake\``,
          },
        );
      }
      const sent = await sendTx(ctx, join, {
        role,
        amount: needed,
        label: `join run ${ctx.config.runId} as ${role}`,
      });
      emit(
        io,
        ctx.json,
        { account: ctx.me, runId: ctx.config.runId, role, locked: needed, transaction: sent.hash },
        () =>
          [
            `joined   run ${ctx.config.runId} as ${role}`,
            `locked   ${formatLearn(needed)}`,
            `tx       ${sent.hash}`,
          ].join("\n"),
      );
    });
}
