/**
 * Home Assistant MQTT discovery for Latchkey's doors: pure functions that build the topics, the
 * device-based discovery message (https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload)
 * and the state payloads. One HA device per door, with a lock, an event entity for entries and
 * refusals, battery, door, tamper and connectivity sensors and the credentials' sync state.
 *
 * Key names: the envelope uses the short keys of HA's own device-discovery example (dev, o, cmps,
 * p, avty, avty_mode; all in HA's abbreviations.py); everything else uses full names.
 *
 * Unlocking from HA: HA's MQTT lock always offers "unlock" (lock.py has no option to leave it
 * out; leaving `payload_unlock` out only makes HA send its default "UNLOCK"). So the lock
 * component keeps `payload_unlock: "UNLOCK"`, the bridge refuses that command for a door whose
 * `allowUnlock` is false (without involving the hub), and the lock's attributes carry
 * `allow_unlock` so HA users can see unlocking is off. `optimistic: false` keeps HA showing the
 * lock's real state after a refusal.
 *
 * What a payload may carry: names, states and counts — never a PIN, card number, token or key.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { BoltState } from "../../drivers/lock-driver.js";

export const DEFAULT_DISCOVERY_PREFIX = "homeassistant";
export const DEFAULT_BASE_TOPIC = "latchkey";

/** What the bridge knows of one door at a moment. */
export interface DoorSnapshot {
  readonly doorId: string;
  readonly name: string;
  readonly siteName: string;
  /** Whether the door's lock is connected to the hub now. */
  readonly online: boolean;
  readonly bolt: BoltState;
  readonly door: "open" | "closed";
  /** null while the lock has not reported it. */
  readonly batteryPercent: number | null;
  readonly tamper: boolean;
  /** Credentials still to be written to the lock, and those that failed. */
  readonly syncPending: number;
  readonly syncFailed: number;
  /** Whether HA may unlock this door (default false: HA can only lock). */
  readonly allowUnlock: boolean;
}

/** The part of a door its discovery message depends on. */
export type DoorIdentity = Pick<DoorSnapshot, "doorId" | "name" | "siteName">;

/** Where Latchkey publishes and what it says about itself. */
export interface DiscoveryOptions {
  /** HA's discovery prefix; default "homeassistant". */
  readonly discoveryPrefix?: string | undefined;
  /** Prefix of the bridge's own topics; default "latchkey". */
  readonly baseTopic?: string | undefined;
  /** Latchkey's version, shown by HA as the device's firmware and the origin's version. */
  readonly swVersion: string;
  /** Shown in HA's MQTT info for the origin (http or https). */
  readonly supportUrl?: string | undefined;
}

/** How a person or attempt was identified at the door. */
export type EntryMethod = "pin" | "card" | "fingerprint" | "phone" | "remote" | "button" | "key";

/**
 * A lock event as the hub knows it. "duress" exists so callers can hand every event over; it is
 * never published: a duress entry raises a silent alarm and must not show anywhere in HA.
 */
export interface DoorEvent {
  readonly kind: "entry" | "refused" | "forced" | "duress";
  /** The person's display name, or null (unknown credential, forced door). */
  readonly who: string | null;
  readonly how: EntryMethod | null;
  /** Why an attempt was refused ("outside schedule"), else null. */
  readonly reason: string | null;
}

/** The event types HA's event entity accepts (event.py `event_types`); never "duress". */
export const EVENT_TYPES = ["entry", "refused", "forced"] as const;
export type PublishedEventType = (typeof EVENT_TYPES)[number];

/** The JSON published on the event topic (HA reads `event_type`; the rest become attributes). */
export interface EventPayload {
  readonly event_type: PublishedEventType;
  readonly who: string | null;
  readonly how: EntryMethod | null;
  readonly reason: string | null;
}

export const LOCK_COMMANDS = { lock: "LOCK", unlock: "UNLOCK" } as const;
export const AVAILABLE = "online";
export const NOT_AVAILABLE = "offline";
/** HA's MQTT sensors and binary sensors read this payload as "unknown". */
export const UNKNOWN_STATE = "None";

export interface DoorTopics {
  readonly config: string;
  readonly command: string;
  readonly lockState: string;
  readonly attributes: string;
  readonly event: string;
  readonly availability: string;
  readonly battery: string;
  readonly door: string;
  readonly tamper: string;
  readonly connectivity: string;
  readonly sync: string;
}

/** The component keys inside `cmps`; each entity's unique_id is "latchkey_<doorId>_<key>". */
export const COMPONENT_KEYS = ["lock", "event", "battery", "door", "tamper", "connectivity", "sync"] as const;
export type ComponentKey = (typeof COMPONENT_KEYS)[number];

/**
 * HA's discovery topic: `<prefix>/<component>/[<node_id>/]<object_id>/config` where node_id and
 * object_id are `[a-zA-Z0-9_-]+` (MQTT discovery, "Discovery topic"). A door id becomes part of
 * an object id, so it is held to the same alphabet (the hub's ids are UUIDs).
 */
const DOOR_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** MQTT 3.1.1 §4.7.1: no wildcards or NUL in a topic name; we also keep control characters out. */
// eslint-disable-next-line no-control-regex -- refusing control characters in topics
const TOPIC_FORBIDDEN = /[+#\u0000-\u001f\u007f]/;
const MAX_PREFIX_LENGTH = 200;
const MAX_TEXT = 200;

export function baseTopicOf(options: Pick<DiscoveryOptions, "baseTopic">): string {
  return options.baseTopic ?? DEFAULT_BASE_TOPIC;
}

/** The bridge's own availability topic (LWT "offline", birth "online", both retained). */
export function bridgeStatusTopic(options: Pick<DiscoveryOptions, "baseTopic">): string {
  return `${baseTopicOf(options)}/status`;
}

/** Where HA announces its own restarts (HA's birth message, default "<prefix>/status"). */
export function homeAssistantStatusTopic(options: Pick<DiscoveryOptions, "discoveryPrefix">): string {
  return `${options.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX}/status`;
}

/** The subscription that receives every door's lock commands. */
export function commandSubscription(options: Pick<DiscoveryOptions, "baseTopic">): string {
  return `${baseTopicOf(options)}/+/set`;
}

export function doorTopics(
  doorId: string,
  options: Pick<DiscoveryOptions, "baseTopic" | "discoveryPrefix">,
): DoorTopics {
  checkDoorId(doorId);
  const door = `${baseTopicOf(options)}/${doorId}`;
  return {
    config: `${options.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX}/device/${objectIdOf(doorId)}/config`,
    command: `${door}/set`,
    lockState: `${door}/state`,
    attributes: `${door}/attributes`,
    event: `${door}/event`,
    availability: `${door}/availability`,
    battery: `${door}/battery`,
    door: `${door}/door`,
    tamper: `${door}/tamper`,
    connectivity: `${door}/connectivity`,
    sync: `${door}/sync`,
  };
}

/** The door id in a command topic `<base>/<doorId>/set`, or null when the topic is not one. */
export function doorIdOfCommandTopic(
  topic: string,
  options: Pick<DiscoveryOptions, "baseTopic">,
): string | null {
  const prefix = `${baseTopicOf(options)}/`;
  if (!topic.startsWith(prefix) || !topic.endsWith("/set")) return null;
  const doorId = topic.slice(prefix.length, -"/set".length);
  return DOOR_ID.test(doorId) ? doorId : null;
}

/** The device's identifier and the discovery topic's object id. */
export function objectIdOf(doorId: string): string {
  return `latchkey_${doorId}`;
}

export function uniqueIdOf(doorId: string, component: ComponentKey): string {
  return `latchkey_${doorId}_${component}`;
}

/**
 * The entity id HA gives the entity when it first sees it (`default_entity_id`, which replaced
 * the deprecated `object_id` in HA 2025.10: home-assistant/core#151775). Entity ids are
 * lower-case `[a-z0-9_]` without doubled or edge underscores.
 */
export function defaultEntityIdOf(platform: string, doorId: string, component: ComponentKey): string {
  const slug = `latchkey_${doorId}_${component}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
  return `${platform}.${slug}`;
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** The device-based discovery message for one door (published retained on `doorTopics().config`). */
export function discoveryPayload(door: DoorIdentity, options: DiscoveryOptions): Record<string, Json> {
  checkOptions(options);
  checkText(door.name, "name");
  checkText(door.siteName, "siteName");
  const t = doorTopics(door.doorId, options);
  const id = door.doorId;
  const common = (platform: string, component: ComponentKey): Record<string, Json> => ({
    p: platform,
    unique_id: uniqueIdOf(id, component),
    default_entity_id: defaultEntityIdOf(platform, id, component),
    qos: 1,
  });
  // The connectivity and sync sensors follow the bridge only: they must stay available to show
  // that the lock is offline, which would otherwise make every entity of the door unavailable.
  const bridgeOnly: Json = [{ topic: bridgeStatusTopic(options) }];
  const origin: Record<string, Json> = {
    name: "Latchkey",
    sw_version: options.swVersion,
    ...(options.supportUrl === undefined ? {} : { support_url: options.supportUrl }),
  };
  return {
    dev: {
      identifiers: [objectIdOf(id)],
      name: door.name,
      manufacturer: "Latchkey",
      model: "Latchkey door",
      sw_version: options.swVersion,
      suggested_area: door.siteName,
    },
    o: origin,
    avty: [{ topic: bridgeStatusTopic(options) }, { topic: t.availability }],
    avty_mode: "all",
    cmps: {
      lock: {
        ...common("lock", "lock"),
        // null: the lock is the device's main feature and takes the door's name.
        name: null,
        command_topic: t.command,
        state_topic: t.lockState,
        payload_lock: LOCK_COMMANDS.lock,
        payload_unlock: LOCK_COMMANDS.unlock,
        state_locked: "LOCKED",
        state_unlocked: "UNLOCKED",
        state_jammed: "JAMMED",
        optimistic: false,
        retain: false,
        json_attributes_topic: t.attributes,
      },
      event: {
        ...common("event", "event"),
        name: "Access",
        state_topic: t.event,
        event_types: [...EVENT_TYPES],
        icon: "mdi:door",
      },
      battery: {
        ...common("sensor", "battery"),
        name: "Battery",
        state_topic: t.battery,
        device_class: "battery",
        unit_of_measurement: "%",
        state_class: "measurement",
      },
      door: {
        ...common("binary_sensor", "door"),
        name: "Door",
        state_topic: t.door,
        device_class: "door",
        payload_on: "ON",
        payload_off: "OFF",
      },
      tamper: {
        ...common("binary_sensor", "tamper"),
        name: "Tamper",
        state_topic: t.tamper,
        device_class: "tamper",
        payload_on: "ON",
        payload_off: "OFF",
      },
      connectivity: {
        ...common("binary_sensor", "connectivity"),
        name: "Connectivity",
        state_topic: t.connectivity,
        device_class: "connectivity",
        entity_category: "diagnostic",
        payload_on: "ON",
        payload_off: "OFF",
        availability: bridgeOnly,
      },
      sync: {
        ...common("sensor", "sync"),
        name: "Credential sync",
        state_topic: t.sync,
        entity_category: "diagnostic",
        icon: "mdi:sync",
        availability: bridgeOnly,
      },
    },
  };
}

/** An empty retained message on the config topic makes HA remove the device and its entities. */
export function removalPayload(): Buffer {
  return Buffer.alloc(0);
}

/** The lock's state (lock.py state_locked / state_unlocked / state_jammed). */
export function lockStatePayload(bolt: BoltState): "LOCKED" | "UNLOCKED" | "JAMMED" {
  switch (bolt) {
    case "locked":
      return "LOCKED";
    case "unlocked":
      return "UNLOCKED";
    case "not-fully-locked":
      return "JAMMED";
  }
}

/** Binary sensor door: ON = open (BinarySensorDeviceClass.DOOR). */
export function doorStatePayload(door: "open" | "closed"): "ON" | "OFF" {
  return door === "open" ? "ON" : "OFF";
}

/** Binary sensor tamper: ON = tampering detected. */
export function tamperStatePayload(tamper: boolean): "ON" | "OFF" {
  return tamper ? "ON" : "OFF";
}

/** Binary sensor connectivity: ON = connected. */
export function connectivityStatePayload(online: boolean): "ON" | "OFF" {
  return online ? "ON" : "OFF";
}

/** The door's own availability: its entities show unavailable while its lock is offline. */
export function availabilityPayload(online: boolean): typeof AVAILABLE | typeof NOT_AVAILABLE {
  return online ? AVAILABLE : NOT_AVAILABLE;
}

/** Battery percent as a whole number 0–100, or "None" (unknown) before the lock reported it. */
export function batteryStatePayload(percent: number | null): string {
  if (percent === null || !Number.isFinite(percent)) return UNKNOWN_STATE;
  return String(Math.round(Math.min(100, Math.max(0, percent))));
}

/** "in sync", "3 pending", "1 failed" or "1 failed, 3 pending". */
export function syncStatePayload(pending: number, failed: number): string {
  const parts: string[] = [];
  if (failed > 0) parts.push(`${failed} failed`);
  if (pending > 0) parts.push(`${pending} pending`);
  return parts.length === 0 ? "in sync" : parts.join(", ");
}

/** The lock entity's attributes (json_attributes_topic). */
export function attributesPayload(door: Pick<DoorSnapshot, "allowUnlock" | "siteName">): string {
  return JSON.stringify({ allow_unlock: door.allowUnlock, site: door.siteName });
}

/**
 * The event entity's JSON, or null for an event HA must not see (duress). Built field by field
 * from the event so nothing else (a PIN typed, a card number) can ride along.
 */
export function eventPayload(event: DoorEvent): EventPayload | null {
  if (event.kind === "duress") return null;
  return {
    event_type: event.kind,
    who: event.who === null ? null : event.who.slice(0, MAX_TEXT),
    how: event.how,
    reason: event.reason === null ? null : event.reason.slice(0, MAX_TEXT),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation (configuration from outside: the hub's settings, door records).

/** Checks a door id, discovery prefix and base topic; throws LatchkeyError("HUB_BAD_REQUEST"). */
export function checkOptions(
  options: Pick<DiscoveryOptions, "baseTopic" | "discoveryPrefix" | "swVersion" | "supportUrl">,
): void {
  if (options.discoveryPrefix !== undefined) checkPrefix(options.discoveryPrefix, "discoveryPrefix");
  if (options.baseTopic !== undefined) checkPrefix(options.baseTopic, "baseTopic");
  if (
    typeof options.swVersion !== "string" ||
    options.swVersion.length === 0 ||
    options.swVersion.length > 64
  ) {
    throw bad("swVersion", "swVersion must be a version string such as 0.1.0");
  }
  if (options.supportUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(options.supportUrl)) {
    throw bad("supportUrl", "supportUrl must be an http:// or https:// URL");
  }
}

export function checkDoorId(doorId: string): void {
  if (typeof doorId !== "string" || !DOOR_ID.test(doorId)) {
    throw bad(
      "doorId",
      "a door id must be 1–64 letters, digits, '-' or '_' (it becomes part of MQTT topics)",
    );
  }
}

function checkPrefix(prefix: string, field: string): void {
  if (typeof prefix !== "string" || prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH) {
    throw bad(field, `${field} must be a topic of 1–${MAX_PREFIX_LENGTH} characters`);
  }
  if (TOPIC_FORBIDDEN.test(prefix))
    throw bad(field, `${field} must not contain "+", "#" or control characters`);
  if (prefix.startsWith("/") || prefix.endsWith("/"))
    throw bad(field, `${field} must not start or end with "/"`);
  // MQTT 3.1.1 §4.7.2: topics starting with "$" belong to the broker.
  if (prefix.startsWith("$")) throw bad(field, `${field} must not start with "$" (reserved for the broker)`);
}

function checkText(text: string, field: string): void {
  if (typeof text !== "string" || text.trim().length === 0 || text.length > MAX_TEXT) {
    throw bad(field, `${field} must be 1–${MAX_TEXT} characters`);
  }
}

function bad(field: string, message: string): LatchkeyError {
  return new LatchkeyError("HUB_BAD_REQUEST", message, { field });
}
