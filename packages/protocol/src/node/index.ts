// Node-only helpers of the protocol package: `import … from "@latchkey/protocol/node"`.
export { nodeEd25519 } from "./ed25519.js";
export { nodeSha256, nodeSha256Parts } from "./sha256.js";
export {
  TcpFrameTransport,
  connectTcp,
  listenTcp,
  TCP_MAX_FRAME,
  type TcpFrameListener,
} from "./tcp-transport.js";
export { nodeX25519 } from "./x25519.js";
