import type { Command } from "commander";
import { castVote } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import { parseVoteChoice, VOTE_SUPPORT } from "../../governance/index.js";
import {
  emit,
  formatLearn,
  openSigner,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";
import { describeBlock, loadProposal } from "./proposals.js";

/** `protolearn vote <proposalId> for|against|abstain [--reason]`: cast your delegated votes. */
export function registerVote(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("vote")
      .description("vote on an active proposal with the votes delegated to you at its snapshot")
      .argument("<proposalId>", "proposal id (from `protolearn proposals`)")
      .argument("<choice>", "for | against | abstain")
      .option("--reason <text>", "a reason, recorded on-chain with the vote"),
  )
    .addHelpText(
      "after",
      '\nExample:\n  $ protolearn vote 4242…17 for --reason "longer inner loop saves bandwidth"',
    )
    .action(async (idText: string, choiceText: string, flags: ChainFlags & { reason?: string }) => {
      const choice = parseVoteChoice(choiceText);
      const ctx = await openSigner(flags, io);
      const proposal = await loadProposal(ctx, idText);
      const { governor } = ctx.chain.contracts;
      const head = await ctx.chain.publicClient.getBlockNumber({ cacheTime: 0 });
      if (proposal.state !== "Active") {
        const when =
          proposal.state === "Pending"
            ? `; voting opens at ${describeBlock(proposal.voteStart + 1n, head)}`
            : "";
        throw new ProtolearnError(
          `proposal ${proposal.id} is ${proposal.state}${when}, and votes are only accepted while it is Active`,
          {
            code: "CLI_PROPOSAL_STATE",
            fix:
              proposal.state === "Pending"
                ? "vote again once voting has opened"
                : "see `protolearn proposals` for what can still be done with it",
          },
        );
      }
      const [voted, weight] = await Promise.all([
        governor.read.hasVoted([proposal.id, ctx.me]),
        governor.read.getVotes([ctx.me, proposal.voteStart]),
      ]);
      if (voted) {
        throw new ProtolearnError(`${ctx.me} has already voted on proposal ${proposal.id}`, {
          code: "CLI_ALREADY_VOTED",
          fix: "a vote cannot be changed; nothing to do",
        });
      }
      if (weight === 0n) {
        throw new ProtolearnError(
          `${ctx.me} had no delegated votes at the proposal's snapshot (block ${proposal.voteStart}), so the vote would count for nothing`,
          {
            code: "CLI_NO_VOTES",
            fix: "delegate with `protolearn delegate` before the next proposal's snapshot (votes count from the block after delegating)",
          },
        );
      }
      const support = VOTE_SUPPORT[choice];
      const sent = await sendTx(ctx, castVote, {
        proposalId: proposal.id,
        support,
        reason: flags.reason,
        label: `vote ${choice}`,
      });
      const [against, forVotes, abstain] = await governor.read.proposalVotes([proposal.id]);
      emit(
        io,
        ctx.json,
        {
          proposalId: proposal.id,
          voter: ctx.me,
          choice,
          weight,
          forVotes,
          againstVotes: against,
          abstainVotes: abstain,
          transaction: sent.hash,
        },
        () =>
          [
            `voted      ${choice} with ${formatLearn(weight)}`,
            `tally      for ${formatLearn(forVotes)}, against ${formatLearn(against)}, abstain ${formatLearn(abstain)} (quorum ${formatLearn(proposal.quorum)})`,
            `voting     ends at ${describeBlock(proposal.voteEnd, head)}`,
            `tx         ${sent.hash}`,
          ].join("\n"),
      );
    });
}
