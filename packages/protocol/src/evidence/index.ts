export * from "./canonical-json.js";
export * from "./commissioning-record.js";
export * from "./bundle.js";
export * from "./verify.js";
export * from "./report.js";
export * from "./trust.js";
export * from "./verdict.js";
