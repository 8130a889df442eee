import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

/**
 * solc cannot be downloaded on every machine this project runs on (no internet), so the
 * compiler is the `solc` npm package's soljson.js, which Hardhat accepts as a solcjs compiler.
 */
const SOLC_VERSION = "0.8.30";
const solcJsPath = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        path: solcJsPath,
        settings: {
          optimizer: { enabled: true, runs: 200 },
          evmVersion: "cancun",
        },
      },
    ],
    overrides: {
      // The round contract is the largest; optimizing it for size keeps it under the 24 KiB
      // code limit (EIP-170). Its hot paths are a handful of storage reads and writes, which
      // the optimizer's runs setting barely changes.
      "contracts/run/RoundSettlement.sol": {
        version: SOLC_VERSION,
        path: solcJsPath,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          viaIR: true,
          evmVersion: "cancun",
        },
      },
      "contracts/run/TrainingRun.sol": {
        version: SOLC_VERSION,
        path: solcJsPath,
        settings: {
          optimizer: { enabled: true, runs: 1 },
          evmVersion: "cancun",
        },
      },
    },
  },
  paths: {
    tests: { mocha: "test/contracts" },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    anvil: { type: "http", chainType: "l1", url: "http://127.0.0.1:8546" },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
    baseSepolia: {
      type: "http",
      chainType: "op",
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("BASE_SEPOLIA_PRIVATE_KEY")],
    },
  },
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
});
