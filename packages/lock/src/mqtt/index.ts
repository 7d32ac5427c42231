/**
 * The lock's MQTT binding (`@latchkey/lock/mqtt`): the topic scheme both sides follow, channel
 * frames over MQTT, and the lock-side client. The hub's gateway imports the shared parts.
 */
export * from "./commissioning-login.js";
export * from "./topics.js";
export * from "./mqtt-transport.js";
export * from "./mqtt-connect.js";
export * from "./device-client.js";
