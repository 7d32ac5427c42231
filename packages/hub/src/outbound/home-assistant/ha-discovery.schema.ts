/**
 * JSON Schemas (draft-07, so that both Ajv 6 and Ajv 8 compile them) of the Home Assistant MQTT
 * discovery messages Latchkey publishes, transcribed from Home Assistant's voluptuous schemas
 * (homeassistant/components/mqtt: schemas.py DEVICE_DISCOVERY_SCHEMA, MQTT_ENTITY_COMMON_SCHEMA,
 * MQTT_ENTITY_DEVICE_INFO_SCHEMA, MQTT_ORIGIN_INFO_SCHEMA; config.py MQTT_RO_SCHEMA and
 * MQTT_RW_SCHEMA; lock.py, event.py, sensor.py and binary_sensor.py PLATFORM_SCHEMA_MODERN) and the
 * documentation (https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload).
 *
 * Differences from Home Assistant, all on the strict side:
 * - unknown keys are refused here (HA drops them silently inside a component, which would hide a
 *   typo such as "stat_t" vs "state_topic");
 * - of HA's abbreviations only the envelope's (dev, o, cmps, p, avty, avty_mode…, as in HA's own
 *   device-discovery example) are accepted; everything else must use the full name;
 * - device classes are HA's BinarySensorDeviceClass in full, and for sensors only the classes
 *   Latchkey emits (HA's SensorDeviceClass has many more);
 * - `object_id` is refused: HA 2025.10 deprecated it for `default_entity_id` and it stopped
 *   working in 2026.4 (home-assistant/core#151775).
 */

type Schema = Record<string, unknown>;

const string: Schema = { type: "string" };
const nonEmptyString: Schema = { type: "string", minLength: 1 };
const nullableString: Schema = { type: ["string", "null"] };
const boolean: Schema = { type: "boolean" };
const positiveInt: Schema = { type: "integer", minimum: 0 };
/** HA util.valid_subscribe_topic: non-empty, no NUL (wildcards are allowed when subscribing). */
const subscribeTopic: Schema = { type: "string", minLength: 1, pattern: "^[^\\u0000]+$" };
/** HA util.valid_publish_topic: as above and no wildcards. */
const publishTopic: Schema = { type: "string", minLength: 1, pattern: "^[^\\u0000#+]+$" };
/** HA cv.configuration_url: an http(s) URL (or homeassistant://). */
const configurationUrl: Schema = { type: "string", pattern: "^(https?|homeassistant)://[^\\s]+$" };
/** HA valid_qos_schema. */
const qos: Schema = { type: "integer", enum: [0, 1, 2] };
/** HA helpers.entity ENTITY_CATEGORIES_SCHEMA. */
const entityCategory: Schema = { type: "string", enum: ["config", "diagnostic"] };
/** HA cv.icon: "prefix:name". */
const icon: Schema = { type: "string", pattern: "^[a-z0-9_-]+:[a-z0-9_-]+$" };
/** HA cv.entity_id as used for default_entity_id: "<domain>.<object id>", lower-case slugs. */
const entityId: Schema = { type: "string", pattern: "^[a-z0-9_]+\\.[a-z0-9_]+$" };

/** Builds an object schema where each full name may also be given by its abbreviation (never both). */
function withAliases(
  properties: Record<string, Schema>,
  aliases: Record<string, string>,
  required: readonly string[],
): Schema {
  const all: Record<string, Schema> = { ...properties };
  const constraints: Schema[] = [];
  for (const [short, full] of Object.entries(aliases)) {
    const schema = properties[full];
    if (schema === undefined) throw new Error(`alias ${short} names no property ${full}`);
    all[short] = schema;
    constraints.push({ not: { required: [short, full] } });
  }
  const fullToShort = new Map(Object.entries(aliases).map(([short, full]) => [full, short]));
  for (const key of required) {
    const short = fullToShort.get(key);
    constraints.push(
      short === undefined ? { required: [key] } : { anyOf: [{ required: [key] }, { required: [short] }] },
    );
  }
  return { type: "object", properties: all, additionalProperties: false, allOf: constraints };
}

/** schemas.py MQTT_AVAILABILITY_LIST_SCHEMA: one entry of `availability`. */
const availabilityEntry: Schema = {
  type: "object",
  properties: {
    topic: subscribeTopic,
    payload_available: string,
    payload_not_available: string,
    value_template: string,
  },
  required: ["topic"],
  additionalProperties: false,
};

/** schemas.py _MQTT_AVAILABILITY_SCHEMA (single topic and list are exclusive). */
const availabilityProperties: Record<string, Schema> = {
  availability: { type: "array", items: availabilityEntry, minItems: 1 },
  availability_mode: { type: "string", enum: ["all", "any", "latest"] },
  availability_topic: subscribeTopic,
  availability_template: string,
  payload_available: string,
  payload_not_available: string,
};

/** schemas.py MQTT_ENTITY_DEVICE_INFO_SCHEMA, with the documented device abbreviations. */
export const deviceSchema: Schema = (() => {
  const schema = withAliases(
    {
      identifiers: { anyOf: [nonEmptyString, { type: "array", items: nonEmptyString }] },
      connections: {
        type: "array",
        items: { type: "array", items: string, minItems: 2, maxItems: 2 },
      },
      manufacturer: string,
      model: string,
      model_id: string,
      name: string,
      hw_version: string,
      serial_number: string,
      sw_version: string,
      via_device: string,
      suggested_area: string,
      configuration_url: configurationUrl,
    },
    {
      ids: "identifiers",
      cns: "connections",
      mf: "manufacturer",
      mdl: "model",
      mdl_id: "model_id",
      hw: "hw_version",
      sn: "serial_number",
      sw: "sw_version",
      sa: "suggested_area",
      cu: "configuration_url",
    },
    [],
  );
  // validate_device_has_at_least_one_identifier: a non-empty `identifiers` or `connections`.
  const nonEmpty = (key: string): Schema => ({
    required: [key],
    properties: { [key]: { anyOf: [nonEmptyString, { type: "array", minItems: 1 }] } },
  });
  (schema.allOf as Schema[]).push({
    anyOf: [nonEmpty("identifiers"), nonEmpty("ids"), nonEmpty("connections"), nonEmpty("cns")],
  });
  return schema;
})();

/** schemas.py MQTT_ORIGIN_INFO_SCHEMA. */
export const originSchema: Schema = withAliases(
  { name: string, sw_version: string, support_url: configurationUrl },
  { sw: "sw_version", url: "support_url" },
  ["name"],
);

/** schemas.py MQTT_ENTITY_COMMON_SCHEMA + config.py SCHEMA_BASE, shared by every component. */
const entityCommonProperties: Record<string, Schema> = {
  ...availabilityProperties,
  device: deviceSchema,
  entity_picture: configurationUrl,
  origin: originSchema,
  enabled_by_default: boolean,
  entity_category: entityCategory,
  icon,
  json_attributes_topic: subscribeTopic,
  json_attributes_template: string,
  default_entity_id: entityId,
  unique_id: nonEmptyString,
  qos,
  encoding: string,
  group: { type: "array", items: string },
};

/** A component of a device message: `p` (or `platform`) names the platform. */
function component(
  platform: string,
  properties: Record<string, Schema>,
  required: readonly string[],
): Schema {
  const base = withAliases(
    { platform: { const: platform }, ...entityCommonProperties, ...properties },
    { p: "platform" },
    // HA requires unique_id on every component of a device-based discovery message.
    ["platform", "unique_id", ...required],
  );
  (base.allOf as Schema[]).push({ not: { required: ["availability", "availability_topic"] } });
  return base;
}

/** config.py MQTT_RO_SCHEMA. */
const readOnlyProperties: Record<string, Schema> = { state_topic: subscribeTopic, value_template: string };

/** lock.py PLATFORM_SCHEMA_MODERN (on config.py MQTT_RW_SCHEMA). */
export const lockComponentSchema: Schema = component(
  "lock",
  {
    command_topic: publishTopic,
    optimistic: boolean,
    retain: boolean,
    state_topic: subscribeTopic,
    code_format: string,
    command_template: string,
    name: nullableString,
    payload_lock: string,
    payload_unlock: string,
    payload_open: string,
    payload_reset: string,
    state_jammed: string,
    state_locked: string,
    state_locking: string,
    state_open: string,
    state_opening: string,
    state_unlocked: string,
    state_unlocking: string,
    value_template: string,
  },
  ["command_topic"],
);

/** event.py _PLATFORM_SCHEMA_BASE; device classes from EventDeviceClass. */
export const eventComponentSchema: Schema = component(
  "event",
  {
    ...readOnlyProperties,
    device_class: { type: "string", enum: ["button", "doorbell", "motion"] },
    name: nullableString,
    event_types: { type: "array", items: string, minItems: 1 },
  },
  ["state_topic", "event_types"],
);

/** sensor.py _PLATFORM_SCHEMA_BASE (device classes: only those Latchkey emits, see above). */
export const sensorComponentSchema: Schema = component(
  "sensor",
  {
    ...readOnlyProperties,
    device_class: { type: ["string", "null"], enum: ["battery", "enum", null] },
    expire_after: positiveInt,
    force_update: boolean,
    last_reset_value_template: string,
    name: nullableString,
    options: { type: "array", items: string, minItems: 1 },
    suggested_display_precision: positiveInt,
    state_class: {
      type: ["string", "null"],
      enum: ["measurement", "measurement_angle", "total", "total_increasing", null],
    },
    unit_of_measurement: nullableString,
  },
  ["state_topic"],
);

/** binary_sensor.py PLATFORM_SCHEMA_MODERN; device classes: BinarySensorDeviceClass in full. */
export const binarySensorComponentSchema: Schema = component(
  "binary_sensor",
  {
    ...readOnlyProperties,
    device_class: {
      type: ["string", "null"],
      enum: [
        "battery",
        "battery_charging",
        "carbon_monoxide",
        "cold",
        "connectivity",
        "door",
        "garage_door",
        "gas",
        "heat",
        "light",
        "lock",
        "moisture",
        "motion",
        "moving",
        "occupancy",
        "opening",
        "plug",
        "power",
        "presence",
        "problem",
        "running",
        "safety",
        "smoke",
        "sound",
        "tamper",
        "update",
        "vibration",
        "window",
        null,
      ],
    },
    expire_after: positiveInt,
    force_update: boolean,
    name: nullableString,
    off_delay: positiveInt,
    payload_off: string,
    payload_on: string,
  },
  ["state_topic"],
);

/** The component schemas by platform, for validating one component on its own. */
export const componentSchemas = {
  lock: lockComponentSchema,
  event: eventComponentSchema,
  sensor: sensorComponentSchema,
  binary_sensor: binarySensorComponentSchema,
} as const;

/** schemas.py DEVICE_DISCOVERY_SCHEMA: the message on `<prefix>/device/<object id>/config`. */
export const deviceDiscoverySchema: Schema = (() => {
  const schema = withAliases(
    {
      ...availabilityProperties,
      device: deviceSchema,
      components: {
        type: "object",
        minProperties: 1,
        additionalProperties: { oneOf: Object.values(componentSchemas) },
      },
      origin: originSchema,
      state_topic: subscribeTopic,
      command_topic: publishTopic,
      qos,
      encoding: string,
    },
    {
      dev: "device",
      cmps: "components",
      o: "origin",
      avty: "availability",
      avty_mode: "availability_mode",
      avty_t: "availability_topic",
      avty_tpl: "availability_template",
      pl_avail: "payload_available",
      pl_not_avail: "payload_not_available",
      stat_t: "state_topic",
      cmd_t: "command_topic",
      e: "encoding",
    },
    ["device", "components", "origin"],
  );
  (schema.allOf as Schema[]).push({
    not: { anyOf: [{ required: ["avty", "avty_t"] }, { required: ["availability", "availability_topic"] }] },
  });
  return schema;
})();
