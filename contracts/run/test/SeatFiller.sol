// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;
/* solhint-disable one-contract-per-file */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StakeManager} from "../../staking/StakeManager.sol";
import {ITrainingRun} from "../ITrainingRun.sol";

/// @title SybilTrainer
/// @notice Test-only (attack S2): one trainer identity a SeatFiller controls.
contract SybilTrainer {
    address private immutable OWNER;

    error SybilTrainerNotOwner(address caller);

    constructor() {
        OWNER = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != OWNER) revert SybilTrainerNotOwner(msg.sender);
        _;
    }

    /// @notice Stakes `amount` of the tokens it holds and joins `run` as a trainer with it.
    function enlist(ITrainingRun run, StakeManager sm, IERC20 token, uint256 amount) external onlyOwner {
        token.approve(address(sm), amount);
        sm.stake(amount);
        run.join(ITrainingRun.Role.Trainer, amount);
    }

    /// @notice Commits `commitment` in `round`; returns whether the run accepted it.
    function tryCommit(
        ITrainingRun run,
        uint256 round,
        bytes32 commitment
    ) external onlyOwner returns (bool) {
        try run.commit(round, commitment) {
            return true;
        } catch {
            return false;
        }
    }
}

/// @title SeatFiller
/// @notice Test-only (attack S2): a contract that settles round r and, in the same
///         transaction, commits for round r+1 with every sybil identity it controls, before any
///         honest trainer can send a transaction. Under v1 (first come, first seated) this
///         filled maxNodesPerRound; under v2 a commit needs a lottery seat drawn from
///         randomness fixed before, so being first gains nothing. Never deployed by the system.
contract SeatFiller {
    SybilTrainer[] public sybils;

    /// @notice Creates `count` sybils, gives each `amount` of this contract's tokens and has
    ///         each stake and join `run` as a trainer with it.
    function enlist(ITrainingRun run, StakeManager sm, IERC20 token, uint256 count, uint256 amount) external {
        for (uint256 i = 0; i < count; ++i) {
            SybilTrainer s = new SybilTrainer();
            token.transfer(address(s), amount);
            s.enlist(run, sm, token, amount);
            sybils.push(s);
        }
    }

    /// @notice The attack: settle `round` (opening round + 1), then commit with every sybil.
    /// @return committed how many sybil commits the run accepted
    function settleAndFill(ITrainingRun run, uint256 round) external returns (uint256 committed) {
        run.finalizeRound(round, 1024);
        uint256 next = round + 1;
        for (uint256 i = 0; i < sybils.length; ++i) {
            bytes32 commitment = keccak256(abi.encode(address(sybils[i]), next));
            if (sybils[i].tryCommit(run, next, commitment)) ++committed;
        }
    }

    function sybilCount() external view returns (uint256) {
        return sybils.length;
    }
}
