/**
 * The in-process MQTT broker (aedes). Locks reach it over WebSocket at `/mqtt` on the hub's own
 * HTTP(S) server, so a default hub needs one port; a raw MQTT TCP listener is opt-in. The hub's
 * own client connects through an in-memory stream (no socket at all). Every client authenticates
 * and is held to `broker-policy.ts`. `stop()` then `start()` is a real restart: all broker state
 * (sessions, subscriptions, queues) is lost and clients reconnect.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";
import { LatchkeyError, type LockId } from "@latchkey/protocol";
import { identify, mayPublish, maySubscribe, type BrokerIdentity } from "./broker-policy.js";
import type { FrameCounters, TopicScheme } from "@latchkey/lock/mqtt";
import { duplexPair, guarded } from "./streams.js";

/** Room for the MQTT header and topic on top of the largest frame. */
const PACKET_OVERHEAD_BYTES = 1024;
/** aedes `concurrency`: 0 is mqemitter's "no limit" (deliveries are never queued). */
const UNQUEUED_DELIVERIES = 0;

export interface EmbeddedBrokerOptions {
  readonly scheme: TopicScheme;
  readonly maxFrameBytes: number;
  readonly counters: FrameCounters;
  /** Constant-time check of a commissioned, admitted lock's broker password. */
  isLockPassword(lockId: LockId, password: Uint8Array): boolean;
  /** Whether locks may connect for commissioning now. */
  commissioningOpen(): boolean;
  readonly maxCommissioningClients: number;
  /**
   * How many of those may come from one network address at once (default 4), so one machine
   * cannot hold every commissioning slot.
   */
  readonly maxCommissioningClientsPerSource?: number;
  /** Serve MQTT over WebSocket on this server's `upgrade` event, at `wsPath`. */
  readonly httpServer?: HttpServer;
  readonly wsPath?: string;
  /** A browser origin allowed to open the WebSocket (any other Origin header is refused). */
  readonly allowedOrigin?: string;
  /** Opt-in raw MQTT listener; port 0 picks a free port (kept across restarts). */
  readonly tcp?: { readonly host: string; readonly port: number };
  onLockOnline(lockId: LockId): void;
  onLockOffline(lockId: LockId): void;
  /** A client was cut off for breaking the rules (for the log; carries no secrets). */
  onViolation?(what: string, clientId: string): void;
}

export class EmbeddedBroker {
  /** The hub client's credential: random, made once per process, never stored or logged. */
  readonly hubPassword = randomBytes(32).toString("base64url");
  private aedes: Aedes | null = null;
  private wss: WebSocketServer | null = null;
  private tcpServer: NetServer | null = null;
  private tcpPort: number | null = null;
  private readonly sockets = new Set<Duplex>();
  private readonly identities = new WeakMap<Client, BrokerIdentity>();
  private readonly onlineLocks = new Map<Client, LockId>();
  /** Connected commissioning clients and the network address each came from. */
  private readonly commissioningClients = new Map<Client, string>();
  /** The network address of each lock-facing connection (TCP or WebSocket), for per-source limits. */
  private readonly sources = new WeakMap<Duplex, string>();
  private readonly maxPacketBytes: number;
  private readonly wsPath: string;
  private readonly taps: ((topic: string, payload: Uint8Array, retained: boolean) => void)[] = [];

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.maxPacketBytes = options.maxFrameBytes + PACKET_OVERHEAD_BYTES;
    this.wsPath = options.wsPath ?? "/mqtt";
  }

  /** Sees every message the broker routes (for tests and diagnostics: what a broker operator sees). */
  tap(listener: (topic: string, payload: Uint8Array, retained: boolean) => void): void {
    this.taps.push(listener);
  }

  get running(): boolean {
    return this.aedes !== null;
  }

  /** The TCP listener's port, or null when there is none. */
  get port(): number | null {
    return this.tcpPort;
  }

  async start(): Promise<void> {
    if (this.aedes !== null) return;
    const aedes = await Aedes.createBroker({
      id: "latchkey-hub",
      // aedes's message emitter queues deliveries beyond `concurrency` (default 100) in flight and
      // drains that queue recursively: thousands of frames queued behind a stalled lock, or the
      // wills of thousands of locks dropping at once, overflowed the stack when the queue drained
      // without subscribers (mcollina/mqemitter#204). Unbounded concurrency never queues; the
      // messages are held in memory either way.
      concurrency: UNQUEUED_DELIVERIES,
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        if (client === null) return done(null); // the broker's own $SYS messages
        const who = this.identities.get(client);
        const payloadBytes =
          typeof packet.payload === "string" ? Buffer.byteLength(packet.payload) : packet.payload.byteLength;
        const verdict =
          who === undefined
            ? "forbidden"
            : mayPublish(
                who,
                this.options.scheme,
                { topic: packet.topic, payloadBytes, retain: packet.retain },
                this.options.maxFrameBytes,
              );
        if (verdict === "allow") return done(null);
        if (verdict === "too-large") this.options.counters.oversizeDropped++;
        this.options.onViolation?.(`publish ${verdict}`, client.id);
        done(new Error(`publish ${verdict}`)); // aedes drops the message and disconnects the client
      },
      authorizeSubscribe: (client, subscription, done) => {
        const who = this.identities.get(client);
        if (who === undefined || !maySubscribe(who, this.options.scheme, subscription.topic)) {
          this.options.onViolation?.("subscribe forbidden", client.id);
          return done(null, null); // SUBACK 0x80 for this filter
        }
        done(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
      },
    });
    aedes.on("publish", (packet) => {
      if (packet.topic.startsWith("$SYS/")) return;
      const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
      for (const t of this.taps) t(packet.topic, new Uint8Array(payload), packet.retain);
    });
    // A lock is online once it listens: the hub opens its session the moment it hears of the lock,
    // and a handshake sent between CONNECT and SUBSCRIBE would be lost (then waited out for 10 s).
    aedes.on("subscribe", (subscriptions, client) => {
      const who = this.identities.get(client);
      if (who?.role !== "lock" || this.onlineLocks.has(client)) return;
      const down = this.options.scheme.lockDown(who.lockId);
      if (!subscriptions.some((s) => s.topic === down)) return;
      this.onlineLocks.set(client, who.lockId);
      this.options.onLockOnline(who.lockId);
    });
    aedes.on("clientDisconnect", (client) => {
      this.commissioningClients.delete(client);
      const lockId = this.onlineLocks.get(client);
      if (lockId === undefined) return;
      this.onlineLocks.delete(client);
      this.options.onLockOffline(lockId);
    });
    this.aedes = aedes;
    try {
      if (this.options.httpServer !== undefined) {
        this.wss = new WebSocketServer({
          noServer: true,
          maxPayload: this.maxPacketBytes,
          handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false),
        });
        this.options.httpServer.on("upgrade", this.onUpgrade);
      }
      if (this.options.tcp !== undefined)
        await this.listenTcp(this.options.tcp.host, this.tcpPort ?? this.options.tcp.port);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops the broker: every client is disconnected, all broker state is dropped. */
  async stop(): Promise<void> {
    const aedes = this.aedes;
    this.aedes = null;
    this.options.httpServer?.off("upgrade", this.onUpgrade);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const wss = this.wss;
    this.wss = null;
    if (wss !== null) {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    const tcp = this.tcpServer;
    this.tcpServer = null;
    if (tcp !== null) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (aedes !== null) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    // aedes does not report disconnects of clients it closes itself while shutting down.
    for (const [client, lockId] of this.onlineLocks) {
      this.onlineLocks.delete(client);
      this.options.onLockOffline(lockId);
    }
    this.commissioningClients.clear();
  }

  /**
   * The network address a connected commissioning client came from (by its session id = client
   * id), or null when no such client is connected.
   */
  commissioningSource(sessionId: string): string | null {
    for (const [client, source] of this.commissioningClients) if (client.id === sessionId) return source;
    return null;
  }

  /** Disconnects every connection of this lock (after it was revoked). */
  disconnectLock(lockId: LockId): void {
    for (const [client, id] of this.onlineLocks) if (id === lockId) client.close();
  }

  /** A stream into the broker for the hub's own client (a closed one while the broker is down). */
  connectInMemory(): Duplex {
    const [ours, theirs] = duplexPair();
    if (this.aedes === null) {
      ours.destroy();
      return ours;
    }
    this.aedes.handle(theirs);
    return ours;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const source = this.sources.get(client.conn) ?? UNKNOWN_SOURCE;
    const who = identify(
      { clientId: client.id, username, password },
      {
        isHubPassword: (p) => constantTimeEqual(p, Buffer.from(this.hubPassword)),
        isLockPassword: (lockId, p) => this.options.isLockPassword(lockId, p),
        commissioningAllowed: () =>
          this.options.commissioningOpen() &&
          this.commissioningClients.size < this.options.maxCommissioningClients &&
          this.commissioningFrom(source) < (this.options.maxCommissioningClientsPerSource ?? 4),
      },
    );
    if (who === null) {
      // MQTT 3.1.1 CONNACK return code 4: bad user name or password.
      const refusal: AuthenticateError = Object.assign(new Error("bad username or password"), {
        returnCode: 4,
      });
      return done(refusal, null);
    }
    this.identities.set(client, who);
    if (who.role === "commissioning") this.commissioningClients.set(client, source);
    done(null, true);
  }

  private commissioningFrom(source: string): number {
    let n = 0;
    for (const s of this.commissioningClients.values()) if (s === source) n++;
    return n;
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== this.wsPath) {
      // Another handler's path; with no other handler, close it as Node would without us.
      if ((this.options.httpServer?.listenerCount("upgrade") ?? 0) <= 1) socket.destroy();
      return;
    }
    const aedes = this.aedes;
    const wss = this.wss;
    if (aedes === null || wss === null) {
      socket.destroy();
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.options.allowedOrigin) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      this.track(stream);
      aedes.handle(this.guard(stream, request.socket.remoteAddress), request);
    });
  };

  private async listenTcp(host: string, port: number): Promise<void> {
    const server = createServer((socket: Socket) => {
      socket.setNoDelay(true);
      this.track(socket);
      if (this.aedes === null) socket.destroy();
      else this.aedes.handle(this.guard(socket, socket.remoteAddress));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) =>
        reject(
          new LatchkeyError(
            "HUB_GATEWAY_BROKER_UNAVAILABLE",
            `cannot listen for MQTT on ${host}:${port}`,
            undefined,
            {
              cause: e,
            },
          ),
        ),
      );
      server.listen({ host, port }, () => resolve());
    });
    const address = server.address();
    this.tcpPort = typeof address === "object" && address !== null ? address.port : port;
    this.tcpServer = server;
  }

  private track(connection: Duplex): void {
    this.sockets.add(connection);
    connection.on("close", () => this.sockets.delete(connection));
    connection.on("error", () => {}); // the connection closes; aedes reports it as a disconnect
  }

  private guard(connection: Duplex, remoteAddress: string | undefined): Duplex {
    const stream = guarded(connection, this.maxPacketBytes, () => {
      this.options.counters.oversizeDropped++;
      this.options.onViolation?.("packet too large", "(unknown)");
    });
    this.sources.set(stream, normaliseAddress(remoteAddress));
    return stream;
  }
}

/** Where a connection's address is unknown (all such connections share one per-source limit). */
const UNKNOWN_SOURCE = "(unknown)";

/** One key per machine: an IPv4 client seen through a dual-stack socket counts as its IPv4 address. */
function normaliseAddress(address: string | undefined): string {
  if (address === undefined || address === "") return UNKNOWN_SOURCE;
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
