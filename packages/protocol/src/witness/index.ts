export * from "./add-checkpoint.js";
export * from "./witness.js";
