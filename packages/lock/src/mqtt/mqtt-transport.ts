/**
 * The channel's `FrameTransport` over MQTT: one channel frame per MQTT message, QoS 1, never
 * retained. A `TopicRouter` shares one MQTT connection between many transports (the hub talks to
 * every lock over its single client) by dispatching incoming messages on their exact topic.
 *
 * A transport outlives short broker outages: mqtt.js reconnects and re-subscribes, QoS 1 frames
 * queued while offline are sent afterwards, and the Noise session on top simply continues (it has
 * explicit counters and a replay window, so a lost or repeated frame is harmless). `onClose` fires
 * only when the transport is closed or its MQTT client is ended for good.
 */
import type { MqttClient } from "mqtt";
import type { FrameTransport } from "@latchkey/protocol";

/** The largest channel frame (the Noise channel's own limit). */
export const DEFAULT_MAX_FRAME_BYTES = 65_535;
/** Frames that arrive before the receiver is attached wait here (a handshake needs one or two). */
const EARLY_FRAME_LIMIT = 16;

/** Counts of frames carried and dropped; shared by the transports of one gateway or client. */
export class FrameCounters {
  framesSent = 0;
  framesReceived = 0;
  /** Frames larger than the limit, in either direction: dropped. */
  oversizeDropped = 0;
  /** Retained messages on a frame topic: dropped (a retained frame would be replayed to every new subscriber). */
  retainedDropped = 0;
  /** Frames for no open transport and no listener, or beyond the early-frame queue: dropped. */
  unroutedDropped = 0;
}

type TopicHandler = (payload: Uint8Array, retained: boolean) => void;

/** Dispatches one MQTT client's incoming messages by exact topic. */
export class TopicRouter {
  private readonly routes = new Map<string, TopicHandler>();
  private unrouted: ((topic: string, payload: Uint8Array, retained: boolean) => void) | null = null;

  constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
      const handler = this.routes.get(topic);
      if (handler !== undefined) handler(bytes, packet.retain);
      else this.unrouted?.(topic, bytes, packet.retain);
    });
  }

  /** Routes `topic` to `handler` (replacing any earlier one); returns the function that removes it. */
  route(topic: string, handler: TopicHandler): () => void {
    this.routes.set(topic, handler);
    return () => {
      if (this.routes.get(topic) === handler) this.routes.delete(topic);
    };
  }

  /** Receives messages whose topic has no route (e.g. the first frame of a lock-initiated session). */
  onUnrouted(handler: (topic: string, payload: Uint8Array, retained: boolean) => void): void {
    this.unrouted = handler;
  }
}

export interface MqttFrameTransportOptions {
  /** Frames above this size are dropped and counted, in both directions (default 65,535). */
  readonly maxFrameBytes?: number;
  readonly counters?: FrameCounters;
  /** Called when the frame handler throws something (a bug above us); the frame is lost. */
  readonly onHandlerError?: (error: unknown) => void;
}

export class MqttFrameTransport implements FrameTransport {
  private frameHandler: ((frame: Uint8Array) => void) | null = null;
  private closeHandler: ((error?: Error) => void) | null = null;
  private readonly early: Uint8Array[] = [];
  private readonly unroute: () => void;
  private closed = false;
  readonly maxFrameBytes: number;
  readonly counters: FrameCounters;

  constructor(
    private readonly router: TopicRouter,
    readonly sendTopic: string,
    readonly receiveTopic: string,
    private readonly options: MqttFrameTransportOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.counters = options.counters ?? new FrameCounters();
    this.unroute = router.route(receiveTopic, (payload, retained) => this.receive(payload, retained));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame.byteLength > this.maxFrameBytes) {
      this.counters.oversizeDropped++;
      return;
    }
    this.counters.framesSent++;
    // QoS 1: stored by mqtt.js while offline and sent after reconnecting. A failure here means the
    // client was ended; the channel treats it as a lost frame.
    this.router.client.publish(this.sendTopic, Buffer.from(frame), { qos: 1, retain: false }, () => {});
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    for (const f of this.early.splice(0)) this.dispatch(f);
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
  }

  /** Stops receiving and tells the owner; the shared MQTT connection stays up. */
  close(): void {
    this.end();
  }

  /** The carrier is gone for good (the MQTT client was ended). */
  end(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.unroute();
    this.early.length = 0;
    const handler = this.closeHandler;
    this.closeHandler = null;
    handler?.(error);
  }

  /** Delivers one incoming message (the router calls this; the gateway does for a first frame). */
  receive(payload: Uint8Array, retained: boolean): void {
    if (this.closed) return;
    if (retained) {
      this.counters.retainedDropped++;
      return;
    }
    if (payload.byteLength > this.maxFrameBytes) {
      this.counters.oversizeDropped++;
      return;
    }
    this.counters.framesReceived++;
    if (this.frameHandler === null) {
      if (this.early.length >= EARLY_FRAME_LIMIT) this.counters.unroutedDropped++;
      else this.early.push(payload);
      return;
    }
    this.dispatch(payload);
  }

  private dispatch(frame: Uint8Array): void {
    try {
      this.frameHandler?.(frame);
    } catch (e) {
      this.options.onHandlerError?.(e);
    }
  }
}
