// Node-only helpers of the protocol package: `import … from "@latchkey/protocol/node"`.
export { nodeEd25519 } from "./ed25519.js";
