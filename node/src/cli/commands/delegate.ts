import type { Command } from "commander";
import { isAddressEqual } from "viem";
import { delegate } from "../../chain/actions/index.js";
import {
  emit,
  formatLearn,
  openSigner,
  parseAddressArg,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/** `protolearn delegate [address]`: give your LEARN's voting weight to yourself (default) or another account. */
export function registerDelegate(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("delegate")
      .description(
        "delegate your LEARN votes (tokens vote only once delegated, and only from the next block)",
      )
      .argument("[address]", "delegatee (default: yourself)"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ protolearn delegate            # vote with your own tokens",
    )
    .action(async (addressText: string | undefined, flags: ChainFlags) => {
      const delegatee =
        addressText === undefined ? undefined : parseAddressArg(addressText, "delegatee");
      const ctx = await openSigner(flags, io);
      const { token } = ctx.chain.contracts;
      const to = delegatee ?? ctx.me;
      const sent = await sendTx(ctx, delegate, { delegatee: to, label: `delegate votes to ${to}` });
      const [balance, votes] = await Promise.all([
        token.read.balanceOf([ctx.me]),
        token.read.getVotes([to]),
      ]);
      emit(
        io,
        ctx.json,
        { account: ctx.me, delegatee: to, balance, delegateeVotes: votes, transaction: sent.hash },
        () =>
          [
            `delegated  ${formatLearn(balance)} of votes to ${isAddressEqual(to, ctx.me) ? "yourself" : to}`,
            `votes      ${formatLearn(votes)} (delegatee's total)`,
            `tx         ${sent.hash}`,
          ].join("\n"),
      );
    });
}
