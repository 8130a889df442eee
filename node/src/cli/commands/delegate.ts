import type { Command } from "commander";
import { isAddressEqual } from "viem";
import { delegate, delegateStake } from "../../chain/actions/index.js";
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

/**
 * `protolearn delegate [address]`: give the voting weight of your LEARN and of your stake
 * (StakeManager, issue 10 G2) to yourself (default) or another account.
 */
export function registerDelegate(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("delegate")
      .description(
        "delegate your LEARN votes and your stake votes (tokens vote only once delegated, and only from the next block)",
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
      const { token, stakeManager } = ctx.chain.contracts;
      const to = delegatee ?? ctx.me;
      const sent = await sendTx(ctx, delegate, { delegatee: to, label: `delegate votes to ${to}` });
      const sentStake = await sendTx(ctx, delegateStake, {
        delegatee: to,
        label: `delegate stake votes to ${to}`,
      });
      const [balance, votes, staked, stakeVotes] = await Promise.all([
        token.read.balanceOf([ctx.me]),
        token.read.getVotes([to]),
        stakeManager.read.stakeOf([ctx.me]).then(([bonded, unbonding]) => bonded + unbonding),
        stakeManager.read.getVotes([to]),
      ]);
      const who = isAddressEqual(to, ctx.me) ? "yourself" : to;
      emit(
        io,
        ctx.json,
        {
          account: ctx.me,
          delegatee: to,
          balance,
          delegateeVotes: votes,
          staked,
          delegateeStakeVotes: stakeVotes,
          transaction: sent.hash,
          stakeTransaction: sentStake.hash,
        },
        () =>
          [
            `delegated  ${formatLearn(balance)} of votes to ${who}`,
            `votes      ${formatLearn(votes)} (delegatee's total)`,
            `stake      ${formatLearn(staked)} of stake votes to ${who}`,
            `stake votes ${formatLearn(stakeVotes)} (delegatee's total)`,
            `tx         ${sent.hash}`,
            `stake tx   ${sentStake.hash}`,
          ].join("\n"),
      );
    });
}

