import type { Command } from "commander";
import { z } from "zod";
import { raiseLock } from "../../chain/actions/index.js";
import { Role, roleWord } from "../../chain/contract-enums.js";
import { ProtolearnError } from "../../errors.js";
import { readRoundView } from "../../run/round-view.js";
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

/** The flags of `raise-lock`, validated before anything is read from the chain. */
const raiseLockFlags = z.object({
  amount: z
    .string({ required_error: "--amount is required" })
    .transform((text) => parseLearnAmount(text, "--amount")),
});

/**
 * `protolearn raise-lock --amount <LEARN>`: adds free bonded stake to the signer's lock in the
 * run (`raiseLock`). A stale lock (below a raised minimum) takes seats again once the result
 * reaches the minimum; a larger lock wins more trainer seats / committee seats. The whole lock
 * counts in draws from `eligibleFrom` on (printed), like a join.
 */
export function registerRaiseLock(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("raise-lock")
      .description(
        "add --amount of your free stake to your lock in the run: more seats, or seats again after the minimum was raised",
      )
      .requiredOption("--amount <LEARN>", "stake to add to the lock (from your free bonded stake)"),
  )
    .addHelpText(
      "after",
      "\nThe whole lock counts in draws from the round printed as 'counts from' (the next one, or the one after\nif the commit deadline has passed). Validators cannot raise between a commit deadline and settlement.\n\nExample:\n  $ protolearn stake 200 && protolearn raise-lock --amount 200",
    )
    .action(async (raw: ChainFlags & { amount?: string }) => {
      const parsed = raiseLockFlags.safeParse(raw);
      if (!parsed.success) {
        throw new ProtolearnError(parsed.error.issues.map((i) => i.message).join("; "), {
          code: "CLI_BAD_AMOUNT",
          fix: "pass --amount with a positive number of LEARN, e.g. --amount 100",
        });
      }
      const added = parsed.data.amount;
      const ctx = await openSigner(raw, io);
      const { run, stakeManager } = ctx.chain.contracts;
      const view = await readRoundView(ctx.chain);
      const at = { blockNumber: view.block };
      const [member, params, free] = await Promise.all([
        run.read.memberOf([ctx.me], at),
        run.read.params(at),
        stakeManager.read.freeStakeOf([ctx.me], at),
      ]);
      const { halted, phase } = view;
      if (halted) {
        throw new ProtolearnError(`run ${ctx.config.runId} was halted for good by governance`, {
          code: "CLI_RUN_HALTED",
          fix: "`protolearn leave` to unlock your stake, or join another run with --run <id>",
        });
      }
      if (member.role === Role.None) {
        throw new ProtolearnError(`${ctx.me} is not a member of run ${ctx.config.runId}`, {
          code: "CLI_NOT_MEMBER",
          fix: "join the run first with `protolearn join --amount <LEARN>` (it locks the amount you choose)",
        });
      }
      const role = roleWord(member.role);
      if (member.role === Role.Validator) {
        if (!view.finalized && phase !== "commit") {
          throw new ProtolearnError(
            `validator locks of run ${ctx.config.runId} cannot change while round ${view.round} is past its commit deadline and not settled (phase ${phase})`,
            {
              code: "CLI_VALIDATOR_SET_FROZEN",
              fix: "run `protolearn raise-lock` again once the round is settled and the next one is in its commit phase (`protolearn status`)",
            },
          );
        }
      }
      if (free < added) {
        throw new ProtolearnError(
          `raising the lock by ${formatLearn(added)} needs that much free stake, but only ${formatLearn(free)} is free`,
          {
            code: "CLI_INSUFFICIENT_STAKE",
            fix: `stake at least ${formatLearn(added - free)} more with \`protolearn stake\`, or pass a smaller --amount`,
          },
        );
      }
      const minimum = member.role === Role.Trainer ? params.minTrainerStake : params.minValidatorStake;
      const sent = await sendTx(ctx, raiseLock, {
        added,
        label: `raise lock in run ${ctx.config.runId} by ${formatLearn(added)}`,
      });
      const after = await run.read.memberOf([ctx.me]);
      const stale = after.lock < minimum;
      emit(
        io,
        ctx.json,
        {
          account: ctx.me,
          runId: ctx.config.runId,
          role,
          added,
          locked: after.lock,
          minimum,
          stale,
          eligibleFrom: after.eligibleFrom,
          transaction: sent.hash,
        },
        () =>
          [
            `raised       lock in run ${ctx.config.runId} (${role}) by ${formatLearn(added)}`,
            `locked       ${formatLearn(after.lock)}${stale ? ` — still below the ${role} minimum of ${formatLearn(minimum)}: no seat until it reaches it` : ""}`,
            `counts from  round ${after.eligibleFrom}`,
            `tx           ${sent.hash}`,
          ].join("\n"),
      );
    });
}
