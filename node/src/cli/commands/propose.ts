import type { Command } from "commander";
import { propose } from "../../chain/actions/index.js";
import { ProtolearnError } from "../../errors.js";
import {
  applyRunParamChanges,
  checkActionsAsTimelock,
  checkProposalThreshold,
  guardianProposal,
  paramsProposal,
  parseRunParamValue,
  proposalArrays,
  proposalId,
  reverseSlashProposal,
  runParamField,
  runSwitchProposal,
  RUN_PARAM_FIELDS,
  treasuryTransferProposal,
  type ProposalDraft,
} from "../../governance/index.js";
import {
  emit,
  formatLearn,
  openSigner,
  parseAddressArg,
  parseLearnAmount,
  sendTx,
  withChainOptions,
  type ChainFlags,
  type CliIo,
  type CliSignerContext,
} from "../context.js";

type ProposeFlags = ChainFlags & { description?: string };

/**
 * Checks the proposal's calls as the timelock, refuses a duplicate, proposes, and prints the
 * id and the voting window.
 */
async function submit(ctx: CliSignerContext, draft: ProposalDraft): Promise<void> {
  const { governor } = ctx.chain.contracts;
  await checkProposalThreshold(ctx.chain, ctx.me);
  await checkActionsAsTimelock(ctx.chain, draft.actions);
  const arrays = proposalArrays(draft.actions);
  const id = proposalId(arrays, draft.description);
  if ((await governor.read.proposalSnapshot([id])) !== 0n) {
    throw new ProtolearnError(
      `an identical proposal (same calls and description) already exists: ${id}`,
      {
        code: "CLI_DUPLICATE_PROPOSAL",
        fix: "vote on that one (`protolearn proposals`), or give this one a different --description",
      },
    );
  }
  const sent = await sendTx(ctx, propose, {
    ...arrays,
    description: draft.description,
    label: `propose "${draft.description}"`,
  });
  const [voteStart, voteEnd] = await Promise.all([
    governor.read.proposalSnapshot([id]),
    governor.read.proposalDeadline([id]),
  ]);
  emit(
    ctx.io,
    ctx.json,
    {
      proposalId: id,
      kind: draft.kind,
      description: draft.description,
      ...arrays,
      voteStart,
      voteEnd,
      transaction: sent.hash,
    },
    () =>
      [
        `proposal     ${id}`,
        `kind         ${draft.kind}`,
        `description  ${draft.description}`,
        `voting       blocks ${voteStart + 1n} .. ${voteEnd} (proposed in block ${sent.receipt.blockNumber})`,
        `tx           ${sent.hash}`,
        "",
        `next: protolearn vote ${id} for|against|abstain`,
      ].join("\n"),
  );
}

function describeOption(command: Command): Command {
  return command.option(
    "--description <text>",
    "what voters read (default: generated from the change)",
  );
}

/** `protolearn propose <kind> …`: create a governance proposal. */
export function registerPropose(program: Command, cliIo: CliIo): void {
  const propose = program
    .command("propose")
    .description(
      "create a governance proposal: params | pause | resume | halt | reverse-slash | treasury-transfer",
    )
    .addHelpText(
      "after",
      '\nExample:\n  $ protolearn propose params --set innerSteps=100 --set densityPpm=5000 --description "Longer inner loop"',
    );

  withChainOptions(
    describeOption(
      propose
        .command("params")
        .description(
          "change run parameters from the next round on (others keep their current or pending value)",
        )
        .option(
          "--set <name=value>",
          "a parameter and its new value; repeatable",
          (v: string, all: string[]) => [...all, v],
          [] as string[],
        ),
    ),
  )
    .addHelpText(
      "after",
      `\nParameters: ${RUN_PARAM_FIELDS.map((f) => f.name).join(", ")}.\n` +
        "minTrainerStake, minValidatorStake and emissionPerRound are in LEARN; modelId takes a model name or 32-byte hex.\n" +
        "\nExample:\n  $ protolearn propose params --set innerSteps=100 --set densityPpm=5000",
    )
    .action(async (flags: ProposeFlags & { set: string[] }) => {
      // Names and values are checked before the password prompt; bounds by simulating as the timelock.
      for (const assignment of flags.set) {
        const eq = assignment.indexOf("=");
        if (eq > 0)
          parseRunParamValue(
            runParamField(assignment.slice(0, eq).trim()),
            assignment.slice(eq + 1),
          );
      }
      const ctx = await openSigner(flags, cliIo);
      const { run } = ctx.chain.contracts;
      // Start from the pending set when there is one: setParams replaces the whole struct.
      const [current, pending] = await Promise.all([run.read.params(), run.read.pendingParams()]);
      const base = pending[0] ? pending[1] : current;
      const { next, changes } = applyRunParamChanges(base, flags.set);
      await submit(
        ctx,
        paramsProposal({
          run: run.address,
          runId: ctx.config.runId,
          next,
          changes,
          ...(flags.description !== undefined ? { description: flags.description } : {}),
        }),
      );
    });

  for (const kind of ["pause", "resume", "halt"] as const) {
    const what = {
      pause:
        "pause the run from the next round (the open round still settles, slashes included); the guardian can also pause directly with `protolearn pause`",
      resume: "resume a paused run",
      halt: "halt the run for good after the open round settles: no further rounds or emission, stake unlocks",
    };
    withChainOptions(describeOption(propose.command(kind).description(what[kind])))
      .addHelpText(
        "after",
        `\nExample:\n  $ protolearn propose ${kind} --description "${kind === "halt" ? "Halt run 1: dataset withdrawn" : `${kind[0]?.toUpperCase()}${kind.slice(1)} run 1`}"`,
      )
      .action(async (flags: ProposeFlags) => {
        const ctx = await openSigner(flags, cliIo);
        await submit(
          ctx,
          runSwitchProposal({
            kind,
            run: ctx.chain.contracts.run.address,
            runId: ctx.config.runId,
            ...(flags.description !== undefined ? { description: flags.description } : {}),
          }),
        );
      });
  }

  withChainOptions(
    describeOption(
      propose
        .command("guardian")
        .description(
          "replace the run's guardian (who may pause without a vote; 0x0000000000000000000000000000000000000000 = nobody but governance), or with --default the guardian of runs created from now on",
        )
        .argument("<address>", "the new guardian")
        .option("--default", "set the RunFactory's default guardian for future runs instead"),
    ),
  )
    .addHelpText(
      "after",
      '\nExample:\n  $ protolearn propose guardian 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --description "Run 1: the ops multisig guards it"',
    )
    .action(async (guardianText: string, flags: ProposeFlags & { default?: boolean }) => {
      const guardian = parseAddressArg(guardianText, "guardian");
      const ctx = await openSigner(flags, cliIo);
      const { run, factory } = ctx.chain.contracts;
      await submit(
        ctx,
        guardianProposal({
          scope: flags.default === true ? "default" : "run",
          target: flags.default === true ? factory.address : run.address,
          runId: ctx.config.runId,
          guardian,
          ...(flags.description !== undefined ? { description: flags.description } : {}),
        }),
      );
    });

  withChainOptions(
    describeOption(
      propose
        .command("reverse-slash")
        .description(
          "return an escrowed slash to its account (only inside the slash's appeal window)",
        )
        .argument("<slashId>", "slash record id (see the NodeSlashed / Slashed events)"),
    ),
  )
    .addHelpText(
      "after",
      '\nExample:\n  $ protolearn propose reverse-slash 3 --description "Slash 3: validator outage, not fraud"',
    )
    .action(async (slashText: string, flags: ProposeFlags) => {
      if (!/^\d+$/.test(slashText) || BigInt(slashText) === 0n) {
        throw new ProtolearnError(`"${slashText}" is not a slash id`, {
          code: "CLI_BAD_SLASH_ID",
          fix: "give the positive integer id of the slash record",
        });
      }
      const ctx = await openSigner(flags, cliIo);
      await submit(
        ctx,
        reverseSlashProposal({
          stakeManager: ctx.chain.contracts.stakeManager.address,
          slashId: BigInt(slashText),
          ...(flags.description !== undefined ? { description: flags.description } : {}),
        }),
      );
    });

  withChainOptions(
    describeOption(
      propose
        .command("treasury-transfer")
        .description("send LEARN from the treasury (the timelock) to an address")
        .argument("<to>", "recipient address")
        .argument("<amount>", "LEARN, decimals allowed"),
    ),
  )
    .addHelpText(
      "after",
      '\nExample:\n  $ protolearn propose treasury-transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 5000 --description "Grant: explorer"',
    )
    .action(async (toText: string, amountText: string, flags: ProposeFlags) => {
      const to = parseAddressArg(toText, "recipient");
      const amount = parseLearnAmount(amountText);
      const ctx = await openSigner(flags, cliIo);
      const { token, timelock } = ctx.chain.contracts;
      const treasury = await token.read.balanceOf([timelock.address]);
      if (treasury < amount) {
        throw new ProtolearnError(
          `the treasury holds ${formatLearn(treasury)}, less than the ${formatLearn(amount)} to transfer`,
          {
            code: "CLI_INSUFFICIENT_TREASURY",
            fix: `propose at most ${formatLearn(treasury)}`,
          },
        );
      }
      await submit(
        ctx,
        treasuryTransferProposal({
          token: token.address,
          to,
          amount,
          ...(flags.description !== undefined ? { description: flags.description } : {}),
        }),
      );
    });
}
