export * from "./redteam-table.js";
export * from "./run-scenario.js";
export * from "./soak-faults.js";
