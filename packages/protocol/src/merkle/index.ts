export * from "./hasher.js";
export * from "./plan.js";
export * from "./verify.js";
export * from "./inclusion-batch.js";
export * from "./tree.js";
export * from "./leaf.js";
