/**
 * The discovery payloads against JSON Schemas transcribed from Home Assistant's own schemas
 * (ha-discovery.schema.ts), checked with Ajv; the schemas themselves are shown to reject what HA
 * would refuse, so a passing validation means something.
 */
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import {
  EVENT_TYPES,
  attributesPayload,
  availabilityPayload,
  batteryStatePayload,
  connectivityStatePayload,
  defaultEntityIdOf,
  discoveryPayload,
  doorIdOfCommandTopic,
  doorStatePayload,
  doorTopics,
  eventPayload,
  lockStatePayload,
  removalPayload,
  syncStatePayload,
  tamperStatePayload,
  type DiscoveryOptions,
  type DoorEvent,
} from "./discovery.js";
import { componentSchemas, deviceDiscoverySchema } from "./ha-discovery.schema.js";

const ajv = new Ajv({ allErrors: true });
const validateDevice = ajv.compile(deviceDiscoverySchema);
const validateComponent = {
  lock: ajv.compile(componentSchemas.lock),
  event: ajv.compile(componentSchemas.event),
  sensor: ajv.compile(componentSchemas.sensor),
  binary_sensor: ajv.compile(componentSchemas.binary_sensor),
};
type Platform = keyof typeof validateComponent;

const DOOR = { doorId: "3f1c9a2e-7b4d-4e21-9c0a-5d6e7f8a9b0c", name: "Front door", siteName: "Home" };
const OPTIONS: DiscoveryOptions = {
  discoveryPrefix: "homeassistant",
  baseTopic: "latchkey",
  swVersion: "0.1.0",
  supportUrl: "https://latchkey.example.org/support",
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests break copies of the payload at will
function clone<T>(value: T): any {
  return JSON.parse(JSON.stringify(value));
}

function errorsOf(validate: { errors?: unknown }): string {
  return JSON.stringify(validate.errors ?? null);
}

describe("the device discovery message", () => {
  const message = discoveryPayload(DOOR, OPTIONS);
  const components = message.cmps as Record<string, Record<string, unknown>>;

  it("validates against HA's device discovery schema", () => {
    expect(validateDevice(message), errorsOf(validateDevice)).toBe(true);
  });

  it("validates each component against its platform's schema", () => {
    const platforms = new Set<string>();
    for (const [key, component] of Object.entries(components)) {
      const platform = component.p as Platform;
      platforms.add(platform);
      const validate = validateComponent[platform];
      expect(validate(component), `${key}: ${errorsOf(validate)}`).toBe(true);
    }
    expect([...platforms].sort()).toEqual(["binary_sensor", "event", "lock", "sensor"]);
  });

  it("describes the door as one device with the brief's identifiers, origin and availability", () => {
    expect(doorTopics(DOOR.doorId, OPTIONS).config).toBe(
      `homeassistant/device/latchkey_${DOOR.doorId}/config`,
    );
    expect(message.dev).toEqual({
      identifiers: [`latchkey_${DOOR.doorId}`],
      name: "Front door",
      manufacturer: "Latchkey",
      model: "Latchkey door",
      sw_version: "0.1.0",
      suggested_area: "Home",
    });
    expect(message.o).toEqual({
      name: "Latchkey",
      sw_version: "0.1.0",
      support_url: "https://latchkey.example.org/support",
    });
    expect(message.avty).toEqual([
      { topic: "latchkey/status" },
      { topic: `latchkey/${DOOR.doorId}/availability` },
    ]);
    expect(message.avty_mode).toBe("all");
  });

  it("gives every component a unique id and a default entity id", () => {
    const uniqueIds = Object.entries(components).map(([key, c]) => {
      expect(c.unique_id).toBe(`latchkey_${DOOR.doorId}_${key}`);
      expect(c.default_entity_id).toBe(defaultEntityIdOf(c.p as string, DOOR.doorId, key as never));
      expect(c.default_entity_id).toMatch(/^[a-z_]+\.latchkey_[a-z0-9_]+$/);
      return c.unique_id;
    });
    expect(new Set(uniqueIds).size).toBe(uniqueIds.length);
  });

  it("has a lock that is not optimistic, with HA's payloads and a way to see allow_unlock", () => {
    expect(components.lock).toMatchObject({
      p: "lock",
      command_topic: `latchkey/${DOOR.doorId}/set`,
      state_topic: `latchkey/${DOOR.doorId}/state`,
      payload_lock: "LOCK",
      payload_unlock: "UNLOCK",
      state_locked: "LOCKED",
      state_unlocked: "UNLOCKED",
      state_jammed: "JAMMED",
      optimistic: false,
      json_attributes_topic: `latchkey/${DOOR.doorId}/attributes`,
    });
    expect(JSON.parse(attributesPayload({ allowUnlock: false, siteName: "Home" }))).toEqual({
      allow_unlock: false,
      site: "Home",
    });
  });

  it("never offers duress as an event type", () => {
    expect(components.event!.event_types).toEqual(["entry", "refused", "forced"]);
    expect(JSON.stringify(message)).not.toContain("duress");
  });

  it("has the sensors with HA's device classes", () => {
    expect(components.battery).toMatchObject({
      p: "sensor",
      device_class: "battery",
      unit_of_measurement: "%",
      state_class: "measurement",
    });
    expect(components.door).toMatchObject({ p: "binary_sensor", device_class: "door" });
    expect(components.tamper).toMatchObject({ p: "binary_sensor", device_class: "tamper" });
    expect(components.connectivity).toMatchObject({
      p: "binary_sensor",
      device_class: "connectivity",
      entity_category: "diagnostic",
      availability: [{ topic: "latchkey/status" }],
    });
    expect(components.sync).toMatchObject({ p: "sensor", entity_category: "diagnostic" });
  });
});

describe("the schemas are real checks", () => {
  const message = discoveryPayload(DOOR, OPTIONS);

  it("reject an unknown key at the top, in the device and in a component", () => {
    const top = clone(message);
    top.retain_everything = true;
    expect(validateDevice(top)).toBe(false);
    const device = clone(message);
    device.dev.colour = "red";
    expect(validateDevice(device)).toBe(false);
    const lock = clone(message).cmps.lock;
    lock.stat_t = "x/y"; // an abbreviation we do not allow inside components
    expect(validateComponent.lock(lock)).toBe(false);
  });

  it("reject wrong types", () => {
    const lock = clone(message).cmps.lock;
    lock.optimistic = "false";
    expect(validateComponent.lock(lock)).toBe(false);
    const battery = clone(message).cmps.battery;
    battery.device_class = "batery";
    expect(validateComponent.sensor(battery)).toBe(false);
    const door = clone(message).cmps.door;
    door.device_class = 1;
    expect(validateComponent.binary_sensor(door)).toBe(false);
    const bad = clone(message);
    bad.avty_mode = "most";
    expect(validateDevice(bad)).toBe(false);
  });

  it("reject missing required keys", () => {
    const event = clone(message).cmps.event;
    delete event.event_types;
    expect(validateComponent.event(event)).toBe(false);
    const lock = clone(message).cmps.lock;
    delete lock.command_topic;
    expect(validateComponent.lock(lock)).toBe(false);
    const noIds = clone(message);
    noIds.dev.identifiers = [];
    expect(validateDevice(noIds)).toBe(false);
    const noOrigin = clone(message);
    delete noOrigin.o;
    expect(validateDevice(noOrigin)).toBe(false);
  });

  it("reject the deprecated object_id and a wildcard in a command topic", () => {
    const lock = clone(message).cmps.lock;
    lock.object_id = "front_door";
    expect(validateComponent.lock(lock)).toBe(false);
    const wild = clone(message).cmps.lock;
    wild.command_topic = "latchkey/+/set";
    expect(validateComponent.lock(wild)).toBe(false);
  });

  it("reject a component of a platform we do not describe", () => {
    const switched = clone(message);
    switched.cmps.lock.p = "switch";
    expect(validateDevice(switched)).toBe(false);
  });
});

describe("state payloads", () => {
  it("map the bolt to HA's lock states", () => {
    expect(lockStatePayload("locked")).toBe("LOCKED");
    expect(lockStatePayload("unlocked")).toBe("UNLOCKED");
    expect(lockStatePayload("not-fully-locked")).toBe("JAMMED");
  });

  it("map door, tamper, connectivity and availability", () => {
    expect(doorStatePayload("open")).toBe("ON");
    expect(doorStatePayload("closed")).toBe("OFF");
    expect(tamperStatePayload(true)).toBe("ON");
    expect(tamperStatePayload(false)).toBe("OFF");
    expect(connectivityStatePayload(true)).toBe("ON");
    expect(connectivityStatePayload(false)).toBe("OFF");
    expect(availabilityPayload(true)).toBe("online");
    expect(availabilityPayload(false)).toBe("offline");
  });

  it("give the battery as a whole percent, or HA's unknown", () => {
    expect(batteryStatePayload(87.6)).toBe("88");
    expect(batteryStatePayload(140)).toBe("100");
    expect(batteryStatePayload(null)).toBe("None");
  });

  it("say how the credentials' sync stands", () => {
    expect(syncStatePayload(0, 0)).toBe("in sync");
    expect(syncStatePayload(3, 0)).toBe("3 pending");
    expect(syncStatePayload(0, 1)).toBe("1 failed");
    expect(syncStatePayload(3, 1)).toBe("1 failed, 3 pending");
  });

  it("remove a device with an empty message", () => {
    expect(removalPayload().length).toBe(0);
  });
});

describe("event payloads", () => {
  it("carry only the event type, who, how and why", () => {
    const withSecrets = {
      kind: "refused",
      who: null,
      how: "pin",
      reason: "outside schedule",
      pin: "58392047",
      cardUid: "04a1b2c3d4e5f6",
      token: "tok_live_abcdef",
    } as unknown as DoorEvent;
    const payload = eventPayload(withSecrets);
    expect(payload).toEqual({ event_type: "refused", who: null, how: "pin", reason: "outside schedule" });
    const text = JSON.stringify(payload);
    for (const secret of ["58392047", "04a1b2c3d4e5f6", "tok_live_abcdef"])
      expect(text).not.toContain(secret);
  });

  it("are never built for a duress entry", () => {
    expect(eventPayload({ kind: "duress", who: "Ada", how: "pin", reason: null })).toBeNull();
    expect(EVENT_TYPES as readonly string[]).not.toContain("duress");
  });

  it("name the entry and its method", () => {
    expect(eventPayload({ kind: "entry", who: "Ada", how: "pin", reason: null })).toEqual({
      event_type: "entry",
      who: "Ada",
      how: "pin",
      reason: null,
    });
  });
});

describe("validation of ids and topics", () => {
  function field(run: () => unknown): string | undefined {
    try {
      run();
    } catch (error) {
      if (isLatchkeyError(error, "HUB_BAD_REQUEST")) return String(error.details?.field);
      throw error;
    }
    return undefined;
  }

  it("refuses door ids that would break topics or HA's object ids", () => {
    expect(field(() => doorTopics("front/door", OPTIONS))).toBe("doorId");
    expect(field(() => doorTopics("a+b", OPTIONS))).toBe("doorId");
    expect(field(() => doorTopics("", OPTIONS))).toBe("doorId");
  });

  it("refuses bad prefixes, versions and URLs", () => {
    expect(field(() => discoveryPayload(DOOR, { ...OPTIONS, baseTopic: "latchkey/#" }))).toBe("baseTopic");
    expect(field(() => discoveryPayload(DOOR, { ...OPTIONS, discoveryPrefix: "$SYS/ha" }))).toBe(
      "discoveryPrefix",
    );
    expect(field(() => discoveryPayload(DOOR, { ...OPTIONS, discoveryPrefix: "ha/" }))).toBe(
      "discoveryPrefix",
    );
    expect(field(() => discoveryPayload(DOOR, { ...OPTIONS, swVersion: "" }))).toBe("swVersion");
    expect(field(() => discoveryPayload(DOOR, { ...OPTIONS, supportUrl: "javascript:alert(1)" }))).toBe(
      "supportUrl",
    );
    expect(field(() => discoveryPayload({ ...DOOR, name: " " }, OPTIONS))).toBe("name");
  });

  it("reads the door id back from a command topic, and nothing else", () => {
    expect(doorIdOfCommandTopic(`latchkey/${DOOR.doorId}/set`, OPTIONS)).toBe(DOOR.doorId);
    expect(doorIdOfCommandTopic(`latchkey/${DOOR.doorId}/state`, OPTIONS)).toBeNull();
    expect(doorIdOfCommandTopic("latchkey/a/b/set", OPTIONS)).toBeNull();
    expect(doorIdOfCommandTopic(`other/${DOOR.doorId}/set`, OPTIONS)).toBeNull();
  });
});
