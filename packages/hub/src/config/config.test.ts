import { describe, it, expect } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import { parseConfig, helpText, FLAGS } from "./config.js";
import { GATEWAY_FLAGS } from "./config.js";

describe("parseConfig", () => {
  it("uses safe defaults: loopback, 8080, ./data, SQLite", () => {
    const c = parseConfig([], {});
    expect(c.host).toBe("127.0.0.1");
    expect(c.port).toBe(8080);
    expect(c.dataDir.endsWith("/data")).toBe(true);
    expect(c.database).toBe("");
    expect(c.publicUrl).toBe("http://localhost:8080"); // a host name, so passkeys work
    expect(c.argon2.memoryCost).toBeGreaterThanOrEqual(19_456);
  });

  it("reads every flag from the environment, and flags win over it", () => {
    const env = {
      LATCHKEY_DATA_DIR: "/tmp/x",
      LATCHKEY_HOST: "0.0.0.0",
      LATCHKEY_PORT: "9000",
      LATCHKEY_DATABASE: "postgres://postgres@127.0.0.1/test",
      LATCHKEY_TLS_CERT: "c.pem",
      LATCHKEY_TLS_KEY: "k.pem",
      LATCHKEY_DEMO: "true",
      LATCHKEY_LOG_LEVEL: "warn",
      LATCHKEY_PUBLIC_URL: "https://hub.example:9000/",
      LATCHKEY_CALENDAR_PRIVATE_FEEDS: "yes",
      LATCHKEY_HOME_ASSISTANT: "mqtts://ha.local:8883",
      LATCHKEY_HOME_ASSISTANT_USER: "latchkey",
      LATCHKEY_HOME_ASSISTANT_PREFIX: "homeassistant",
      LATCHKEY_HOME_ASSISTANT_UNLOCK:
        "0e6b2f38-3f0c-4f4e-9d43-1f2a3b4c5d6e, 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
    };
    expect(Object.keys(env).sort()).toEqual(FLAGS.map((f) => f.env).sort());
    const c = parseConfig([], env);
    expect(c).toMatchObject({ dataDir: "/tmp/x", host: "0.0.0.0", port: 9000, demo: true, logLevel: "warn" });
    expect(c.publicUrl).toBe("https://hub.example:9000");
    expect(c.tlsCert).toBe("c.pem");
    expect(c.calendarPrivateFeeds).toBe(true);
    expect(parseConfig([], {}).calendarPrivateFeeds).toBe(false);
    // The password only from the environment: a flag would show in ps.
    expect(parseConfig([], { ...env, LATCHKEY_HOME_ASSISTANT_PASSWORD: "pw" }).homeAssistant).toEqual({
      url: "mqtts://ha.local:8883",
      username: "latchkey",
      password: "pw",
      discoveryPrefix: "homeassistant",
      unlockDoorIds: ["0e6b2f38-3f0c-4f4e-9d43-1f2a3b4c5d6e", "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"],
    });
    expect(parseConfig([], {}).homeAssistant).toBeNull();
    expect(parseConfig(["--port", "7000"], env).port).toBe(7000);
  });

  it("rejects bad values with HUB_CONFIG_INVALID naming the option", () => {
    for (const argv of [
      ["--port", "http"],
      ["--port", "70000"],
      ["--tls-cert", "a"],
      ["--nope"],
      ["--log-level", "loud"],
    ]) {
      try {
        parseConfig(argv, {});
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "HUB_CONFIG_INVALID")).toBe(true);
      }
    }
    expect(() => parseConfig([], { LATCHKEY_DEMO: "maybe" })).toThrow(/LATCHKEY_DEMO/);
  });

  it("--help lists every flag and its variable", () => {
    expect(parseConfig(["--help"], {}).help).toBe(true);
    for (const f of FLAGS) expect(helpText()).toContain(f.env);
  });
});

describe("parseConfig: device gateway", () => {
  it("defaults to the embedded broker with no extra listener", () => {
    const c = parseConfig([], {});
    expect(c.broker).toBeUndefined();
    expect(c.mqttPort).toBeUndefined();
  });

  it("reads --broker / --mqtt-port and their variables, flags first", () => {
    expect(
      Object.keys({
        LATCHKEY_BROKER: 1,
        LATCHKEY_MQTT_PORT: 1,
        LATCHKEY_COMMISSIONING_CLIENTS: 1,
        LATCHKEY_COMMISSIONING_PER_SOURCE: 1,
        LATCHKEY_TOPIC_PREFIX: 1,
      }).sort(),
    ).toEqual(GATEWAY_FLAGS.map((f) => f.env).sort());
    expect(parseConfig([], { LATCHKEY_BROKER: "mqtt://broker.lan:1883" }).broker).toBe(
      "mqtt://broker.lan:1883",
    );
    expect(parseConfig(["--broker", "wss://b:8884/mqtt"], { LATCHKEY_BROKER: "mqtt://x" }).broker).toBe(
      "wss://b:8884/mqtt",
    );
    expect(parseConfig([], { LATCHKEY_MQTT_PORT: "0" }).mqttPort).toBe(0);
    expect(parseConfig(["--mqtt-port", "18830"], {}).mqttPort).toBe(18830);
    expect(parseConfig([], {}).commissioningClientsPerSource).toBe(4);
    expect(parseConfig([], { LATCHKEY_COMMISSIONING_PER_SOURCE: "500" }).commissioningClientsPerSource).toBe(
      500,
    );
    for (const f of GATEWAY_FLAGS) expect(helpText()).toContain(f.env);
  });

  it("rejects a non-MQTT broker URL, a bad port, and --mqtt-port with --broker", () => {
    for (const argv of [
      ["--broker", "http://b:1883"],
      ["--broker", "not a url"],
      ["--mqtt-port", "65536"],
      ["--mqtt-port", "x"],
      ["--broker", "mqtt://b", "--mqtt-port", "1"],
    ]) {
      try {
        parseConfig(argv, {});
        expect.unreachable(argv.join(" "));
      } catch (e) {
        expect(isLatchkeyError(e, "HUB_CONFIG_INVALID")).toBe(true);
      }
    }
  });
});
