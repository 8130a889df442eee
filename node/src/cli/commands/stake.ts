import type { Command } from "commander";
import { approve, stake } from "../../chain/actions/index.js";
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

/** `protolearn stake <amount>`: approve the StakeManager if needed, then bond `amount` LEARN. */
export function registerStake(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("stake")
      .description("bond LEARN in the StakeManager (approves it first when the allowance is short)")
      .argument("<amount>", "LEARN to stake, decimals allowed (e.g. 1000 or 0.5)"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ protolearn stake 1000 --config ~/.protolearn/config.json",
    )
    .action(async (amountText: string, flags: ChainFlags) => {
      const amount = parseLearnAmount(amountText);
      const ctx = await openSigner(flags, io);
      const { token, stakeManager } = ctx.chain.contracts;
      const [balance, allowance] = await Promise.all([
        token.read.balanceOf([ctx.me]),
        token.read.allowance([ctx.me, stakeManager.address]),
      ]);
      // Checked before the approval, so a stake that cannot succeed sends nothing at all.
      if (balance < amount) {
        throw new ProtolearnError(
          `${ctx.me} holds ${formatLearn(balance)}, less than the ${formatLearn(amount)} to stake`,
          {
            code: "CLI_INSUFFICIENT_BALANCE",
            fix: `stake at most ${formatLearn(balance)}, or get more LEARN into this account first`,
          },
        );
      }
      const hashes: string[] = [];
      if (allowance < amount) {
        const approved = await sendTx(ctx, approve, {
          spender: stakeManager.address,
          amount,
          label: `approve ${formatLearn(amount)} for the StakeManager`,
        });
        hashes.push(approved.hash);
      }
      const staked = await sendTx(ctx, stake, { amount, label: `stake ${formatLearn(amount)}` });
      hashes.push(staked.hash);
      const bonded = await stakeManager.read.bondedOf([ctx.me]);
      emit(io, ctx.json, { account: ctx.me, staked: amount, bonded, transactions: hashes }, () =>
        [
          `staked   ${formatLearn(amount)}`,
          `bonded   ${formatLearn(bonded)}`,
          `tx       ${hashes.join(", ")}`,
          "",
          "next: `protolearn join --role trainer|validator`",
        ].join("\n"),
      );
    });
}
