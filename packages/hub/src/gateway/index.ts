export * from "./topics.js";
export * from "./mqtt-transport.js";
export * from "./broker-policy.js";
export * from "./embedded-broker.js";
export * from "./device-gateway.js";
export * from "./device-client.js";
