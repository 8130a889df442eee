// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title LearnToken
/// @notice The protolearn token: staked by trainers and validators, minted as round rewards by
///         the runs governance allows to mint, and the voting weight of RunGovernor.
/// @dev ERC20 + ERC20Permit + ERC20Votes (block-number clock) + ERC20Burnable with a hard cap.
///      Roles: DEFAULT_ADMIN_ROLE (the timelock) administers MINTER_ADMIN_ROLE; MINTER_ADMIN_ROLE
///      (the run factory, and the admin itself) administers MINTER_ROLE; MINTER_ROLE (each run)
///      may mint up to the cap.
contract LearnToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes, AccessControl {
    /// @notice May call `mint`. Granted to each run by the holder of MINTER_ADMIN_ROLE.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Admin role of MINTER_ROLE: may grant and revoke it (the run factory, governance).
    bytes32 public constant MINTER_ADMIN_ROLE = keccak256("MINTER_ADMIN_ROLE");

    // solhint-disable-next-line immutable-vars-naming
    uint256 private immutable _cap;

    /// @notice A mint would take the total supply over the cap.
    error LearnTokenCapExceeded(uint256 supplyAfter, uint256 cap);
    /// @notice The cap is zero or above what ERC20Votes can checkpoint (type(uint208).max).
    error LearnTokenInvalidCap(uint256 cap, uint256 maxCap);
    /// @notice The admin is the zero address.
    error LearnTokenInvalidAdmin(address admin);

    /// @param name_ ERC20 name (also the EIP-712 domain name used by permit)
    /// @param symbol_ ERC20 symbol
    /// @param cap_ hard cap on the total supply, in base units (1 .. type(uint208).max)
    /// @param admin receives DEFAULT_ADMIN_ROLE and MINTER_ADMIN_ROLE (the timelock in production)
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 cap_,
        address admin
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        if (cap_ == 0 || cap_ > _maxSupply()) revert LearnTokenInvalidCap(cap_, _maxSupply());
        if (admin == address(0)) revert LearnTokenInvalidAdmin(admin);
        _cap = cap_;
        _setRoleAdmin(MINTER_ROLE, MINTER_ADMIN_ROLE);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ADMIN_ROLE, admin);
    }

    /// @notice Mints `amount` to `to`.
    /// @dev Only MINTER_ROLE. Reverts with LearnTokenCapExceeded when the supply would pass the cap.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice The hard cap on the total supply.
    function cap() external view returns (uint256) {
        return _cap;
    }

    /// @notice How much can still be minted before the cap is reached.
    function mintable() external view returns (uint256) {
        return _cap - totalSupply();
    }

    /// @inheritdoc AccessControl
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Every balance change passes here; the cap is checked after a mint, when the
    ///      supply has its new value (ERC20Votes also checks its own, larger, limit).
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
        if (from == address(0)) {
            uint256 supply = totalSupply();
            if (supply > _cap) revert LearnTokenCapExceeded(supply, _cap);
        }
    }
}
