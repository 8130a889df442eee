import type { Command } from "commander";
import { withdraw } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
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

/** `protolearn withdraw`: pay out every unbonding request whose release time has passed. */
export function registerWithdraw(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("withdraw")
      .description("withdraw every matured unbonding request to your wallet"),
  )
    .addHelpText("after", "\nExample:\n  $ protolearn withdraw")
    .action(async (flags: ChainFlags) => {
      const ctx = await openSigner(flags, io);
      const { stakeManager } = ctx.chain.contracts;
      const [withdrawable, entries, block] = await Promise.all([
        stakeManager.read.withdrawableOf([ctx.me]),
        stakeManager.read.unbondingEntries([ctx.me]),
        ctx.chain.publicClient.getBlock(),
      ]);
      if (withdrawable === 0n) {
        const next = entries.reduce<bigint | undefined>(
          (min, e) => (min === undefined || BigInt(e.releaseAt) < min ? BigInt(e.releaseAt) : min),
          undefined,
        );
        throw new ProtolearnError(
          next === undefined
            ? "nothing is unbonding, so there is nothing to withdraw"
            : `nothing has finished unbonding yet; the next request releases ${describeTime(next, block.timestamp)}`,
          {
            code: "CLI_NOTHING_TO_WITHDRAW",
            fix:
              next === undefined
                ? "request an unbonding first with `protolearn unstake <amount>`"
                : "run `protolearn withdraw` again after that time",
          },
        );
      }
      const sent = await sendTx(ctx, withdraw, { label: `withdraw ${formatLearn(withdrawable)}` });
      emit(io, ctx.json, { account: ctx.me, withdrawn: withdrawable, transaction: sent.hash }, () =>
        [`withdrawn  ${formatLearn(withdrawable)}`, `tx         ${sent.hash}`].join("\n"),
      );
    });
}
