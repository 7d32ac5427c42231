export { encodeBase64, decodeBase64 } from "./base64.js";
export * from "./signed-note.js";
export * from "./checkpoint.js";
export * from "./cosignature.js";
