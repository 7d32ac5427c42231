/**
 * The one thing the channel needs from a carrier: whole frames out and whole frames in. A
 * WebSocket or MQTT message, a radio packet or one length-prefixed TCP record is one frame.
 */
export interface FrameTransport {
  /** Queues one frame for the peer (may be lost on lossy carriers). */
  send(frame: Uint8Array): void;
  /** Sets the receiver of incoming frames (one handler; a later call replaces it). */
  onFrame(handler: (frame: Uint8Array) => void): void;
  /** Sets the handler called once when the carrier is gone (closed by either side or failed). */
  onClose(handler: (error?: Error) => void): void;
  /** Closes the carrier. */
  close(): void;
}
