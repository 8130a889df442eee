import type { Command } from "commander";
import { requestUnstake } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import {
  describeTime,
  emit,
  formatLearn,
  openSigner,
  parseLearnAmount,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/** `protolearn unstake <amount>`: move free bonded stake into the unbonding queue. */
export function registerUnstake(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("unstake")
      .description(
        "request to unbond free (unlocked) stake; withdraw it after the unbonding period",
      )
      .argument("<amount>", "LEARN to unbond, decimals allowed"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ protolearn unstake 250   # then, after the unbonding period: protolearn withdraw",
    )
    .action(async (amountText: string, flags: ChainFlags) => {
      const amount = parseLearnAmount(amountText);
      const ctx = await openSigner(flags, io);
      const { stakeManager } = ctx.chain.contracts;
      const [free, locked] = await Promise.all([
        stakeManager.read.freeStakeOf([ctx.me]),
        stakeManager.read.lockedOf([ctx.me]),
      ]);
      if (free < amount) {
        throw new ProtolearnError(
          `only ${formatLearn(free)} of your stake is free to unbond (${formatLearn(locked)} is locked by runs), less than ${formatLearn(amount)}`,
          {
            code: "CLI_INSUFFICIENT_STAKE",
            fix: `unstake at most ${formatLearn(free)}, or \`protolearn leave\` the run to unlock the rest`,
          },
        );
      }
      const sent = await sendTx(ctx, requestUnstake, {
        amount,
        label: `unstake ${formatLearn(amount)}`,
      });
      const { requestId, releaseAt } = sent;
      const block = await ctx.chain.publicClient.getBlock({
        blockNumber: sent.receipt.blockNumber,
      });
      emit(
        io,
        ctx.json,
        { account: ctx.me, amount, requestId, releaseAt, transaction: sent.hash },
        () =>
          [
            `unbonding  ${formatLearn(amount)} (request #${requestId})`,
            `release    ${describeTime(releaseAt, block.timestamp)}`,
            `tx         ${sent.hash}`,
            "",
            "then: `protolearn withdraw`",
          ].join("\n"),
      );
    });
}
