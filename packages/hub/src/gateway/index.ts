export * from "@latchkey/lock/mqtt";
export * from "./broker-policy.js";
export * from "./embedded-broker.js";
export * from "./device-gateway.js";
