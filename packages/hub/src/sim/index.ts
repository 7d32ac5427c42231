export * from "./sim-lock.js";
export * from "./fleet.js";
