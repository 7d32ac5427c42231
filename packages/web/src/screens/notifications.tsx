/**
 * Notifications (owner only): where the hub sends alerts — webhooks, ntfy, email, MQTT and the
 * browsers that subscribed to Web Push. Each channel shows what of its settings may be shown, its
 * events, whether it is on (and why the hub turned it off), a test button with the outcome in
 * words, and its delivery log. Adding, changing and removing need a fresh second factor (the API
 * client asks for it). A webhook secret the hub made is shown once, right after adding.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError } from "../api/client.js";
import {
  addChannel,
  CHANNEL_KINDS,
  deliveryWords,
  deviceName,
  eventWords,
  kindWords,
  listChannels,
  listDeliveries,
  parseEvents,
  PushSetupError,
  pushUnsupportedReason,
  removeChannel,
  sendTest,
  shownSettings,
  subscribeThisDevice,
  updateChannel,
  type ChannelKind,
  type Delivery,
  type NewChannel,
  type NotificationChannel,
} from "../api/notifications.js";
import {
  Alert,
  ErrorAlert,
  errorText,
  Field,
  formatWhen,
  PageTitle,
  Spinner,
  TextField,
  useAction,
  useLoad,
} from "../ui/components.js";
import { CopyableText } from "./access.js";
import { onSubmit } from "./factors.js";

const HUB_FORM_PREFIX = "The hub could not accept this form: ";

/** The hub's own message for a refused form, as it sent it (first letter capitalised). */
function hubMessage(error: unknown): string {
  const text = errorText(error);
  if (!(error instanceof ApiError) || !text.startsWith(HUB_FORM_PREFIX)) return text;
  const m = text.slice(HUB_FORM_PREFIX.length);
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** The settings field the hub blamed (`settings.url` and `url` both → `url`), or null. */
function blamedField(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const field = error.field;
  return field === null ? null : field.replace(/^settings\./, "");
}

export function NotificationsScreen() {
  const channels = useLoad(listChannels);
  const [done, setDone] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<{ name: string; secret: string } | null>(null);
  const changed = (message: string) => {
    setDone(message);
    channels.reload();
  };
  return (
    <div className="stack">
      <PageTitle lead="Where the hub tells you about alerts (a lock offline, a door forced open…) when you are not looking at this page.">
        Notifications
      </PageTitle>
      {done === null ? null : <Alert kind="success">{done}</Alert>}
      {revealed === null ? null : (
        <SecretReveal name={revealed.name} secret={revealed.secret} onDone={() => setRevealed(null)} />
      )}
      <section className="card stack" aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        {channels.error !== null ? (
          <ErrorAlert error={channels.error} />
        ) : channels.data === null ? (
          <Spinner label="Loading channels…" />
        ) : channels.data.length === 0 ? (
          <p className="muted">No channels yet: the hub sends no notifications. Add one below.</p>
        ) : (
          <ul className="list" aria-label="Notification channels">
            {channels.data.map((c) => (
              <ChannelRow key={c.id} channel={c} onChanged={changed} />
            ))}
          </ul>
        )}
      </section>
      <AddChannelSection
        onAdded={(channel, secret) => {
          setRevealed(secret === null ? null : { name: channel.name, secret });
          changed(`“${channel.name}” was added. Press “Send test” to check that it arrives.`);
        }}
      />
      <ThisDeviceSection
        onAdded={(channel) =>
          changed(`This device now gets notifications as “${channel.name}”. Press “Send test” to check.`)
        }
      />
    </div>
  );
}

/** A webhook's signing secret the hub made: shown once, with a copy button. */
function SecretReveal({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <section className="card stack" aria-labelledby="secret-title">
      <h2 id="secret-title" ref={ref} tabIndex={-1}>
        Signing secret for {name}
      </h2>
      <CopyableText text={secret} label="Copy secret" className="secret uri" testId="webhook-secret" />
      <Alert kind="warning">
        <strong>This secret is shown once.</strong> Put it into the receiving side now: it checks with it that
        each message comes from this hub (Standard Webhooks signatures). The hub cannot show it again; if it
        is lost, remove the channel and add it again.
      </Alert>
      <div className="actions">
        <button type="button" className="button secondary" onClick={onDone}>
          I have saved the secret
        </button>
      </div>
    </section>
  );
}

function ChannelRow({
  channel,
  onChanged,
}: {
  channel: NotificationChannel;
  onChanged: (message: string) => void;
}) {
  const test = useAction();
  const toggle = useAction();
  const remove = useAction();
  const [outcome, setOutcome] = useState<Delivery | null>(null);
  const [showLog, setShowLog] = useState(false);
  const [logTick, setLogTick] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const askRef = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // Keyboard users stay in place: focus moves to "Remove …" when asked, and back when kept.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (asked.current) askRef.current?.focus();
    asked.current = confirming;
  }, [confirming]);
  const name = channel.name;
  const titleId = `channel-${channel.id}`;
  const busy = test.busy || toggle.busy || remove.busy;
  return (
    <li className="list-row" data-channel={channel.id}>
      <div className="list-main stack">
        <div className="card-head">
          <h3 id={titleId}>{name}</h3>
          <span className="badges">
            <span className="badge status-scheduled">{kindWords(channel.kind)}</span>
            <span className={`badge ${channel.enabled ? "status-active" : "status-revoked"}`}>
              {channel.enabled ? "On" : "Off"}
            </span>
          </span>
        </div>
        <dl className="facts small">
          {shownSettings(channel).map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
          <div>
            <dt>Sends</dt>
            <dd>{eventWords(channel.events)}</dd>
          </div>
          <div>
            <dt>Added</dt>
            <dd>{formatWhen(channel.createdAt)}</dd>
          </div>
        </dl>
        {!channel.enabled && channel.disabledReason !== null ? (
          <Alert kind="warning">
            The hub turned this channel off: {channel.disabledReason}. Fix the cause, then turn it on again.
          </Alert>
        ) : null}
        <div role="status" data-test-outcome>
          {test.busy
            ? "Sending a test…"
            : outcome === null
              ? ""
              : `Test: ${deliveryWords(outcome, formatWhen)}`}
        </div>
        <ErrorAlert error={test.error ?? toggle.error ?? remove.error} />
        {showLog ? <DeliveryLog channelId={channel.id} name={name} tick={logTick} /> : null}
      </div>
      <div className="actions">
        <button
          type="button"
          className="button secondary small"
          aria-label={`Send test to ${name}`}
          disabled={busy || !channel.enabled}
          onClick={() =>
            void test.run(async () => {
              setOutcome(null);
              setOutcome(await sendTest(channel.id));
              setLogTick((t) => t + 1);
            })
          }
        >
          Send test
        </button>
        <button
          type="button"
          className="button secondary small"
          aria-expanded={showLog}
          aria-label={`Delivery log of ${name}`}
          onClick={() => {
            setShowLog((s) => !s);
            setLogTick((t) => t + 1);
          }}
        >
          Delivery log
        </button>
        <button
          type="button"
          className="button secondary small"
          aria-label={`${channel.enabled ? "Turn off" : "Turn on"} ${name}`}
          disabled={busy}
          onClick={() =>
            void toggle.run(async () => {
              await updateChannel(channel.id, { enabled: !channel.enabled });
              onChanged(
                channel.enabled
                  ? `“${name}” is off: it gets nothing until you turn it on.`
                  : `“${name}” is on.`,
              );
            })
          }
        >
          {channel.enabled ? "Turn off" : "Turn on"}
        </button>
        {confirming ? (
          <>
            <button
              ref={confirmRef}
              type="button"
              className="button danger small"
              disabled={busy}
              onClick={() =>
                void remove.run(async () => {
                  await removeChannel(channel.id);
                  setConfirming(false);
                  onChanged(`“${name}” was removed, with its undelivered messages and delivery log.`);
                })
              }
            >
              {remove.busy ? "Removing…" : `Remove ${name}`}
            </button>
            <button type="button" className="button secondary small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            ref={askRef}
            type="button"
            className="button secondary small"
            aria-label={`Remove ${name}…`}
            onClick={() => setConfirming(true)}
          >
            Remove…
          </button>
        )}
      </div>
    </li>
  );
}

const STATE_WORDS: Readonly<Record<string, { label: string; className: string }>> = {
  sent: { label: "Sent", className: "status-active" },
  pending: { label: "Waiting to retry", className: "status-scheduled" },
  failed: { label: "Failed", className: "status-revoked" },
};

function DeliveryLog({ channelId, name, tick }: { channelId: string; name: string; tick: number }) {
  const [log, setLog] = useState<{ items: readonly Delivery[] | null; error: unknown }>({
    items: null,
    error: null,
  });
  useEffect(() => {
    let live = true;
    listDeliveries(channelId).then(
      (items) => live && setLog({ items, error: null }),
      (error: unknown) => live && setLog((l) => ({ items: l.items, error })),
    );
    return () => {
      live = false;
    };
  }, [channelId, tick]);
  if (log.error !== null) return <ErrorAlert error={log.error} />;
  if (log.items === null) return <Spinner label="Loading the delivery log…" />;
  if (log.items.length === 0) return <p className="muted small">Nothing was sent to this channel yet.</p>;
  return (
    <section className="subcard stack" aria-label={`Delivery log of ${name}`}>
      <ul className="list" aria-label={`Deliveries to ${name}, newest first`}>
        {log.items.map((d) => {
          const state = STATE_WORDS[d.state] ?? { label: d.state, className: "status-expired" };
          return (
            <li key={d.id} className="list-row" data-delivery={d.id} data-state={d.state}>
              <div className="list-main">
                <strong>{d.title}</strong>
                <span className="small">
                  <span className={`badge ${state.className}`}>{state.label}</span> · {d.attempts}{" "}
                  {d.attempts === 1 ? "attempt" : "attempts"}
                  {d.lastResult === null ? "" : ` · ${d.lastResult}`}
                </span>
                <span className="muted small">
                  Queued {formatWhen(d.createdAt)}
                  {d.finishedAt === null ? "" : ` · finished ${formatWhen(d.finishedAt)}`}
                  {d.nextAttemptAt === null ? "" : ` · next try ${formatWhen(d.nextAttemptAt)}`} · {d.event}
                </span>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type FormKind = Exclude<ChannelKind, "web-push">;

interface SettingSpec {
  readonly key: string;
  readonly label: string;
  readonly hint?: string;
  readonly type?: "text" | "password" | "email" | "number" | "select" | "checkbox";
  readonly options?: readonly { value: string; label: string }[];
  readonly initial?: string;
  readonly optional?: boolean;
  readonly inputMode?: "url" | "text" | "email" | "numeric";
  readonly autoComplete?: string;
}

/** Each kind's fields, named as the hub's validate* functions name them (so its errors land on them). */
const FIELDS: Readonly<Record<FormKind, readonly SettingSpec[]>> = {
  webhook: [
    {
      key: "url",
      label: "URL",
      hint: "Where the hub POSTs each message, starting with https:// (or http:// inside your home network).",
      inputMode: "url",
    },
    {
      key: "secret",
      label: "Signing secret (optional)",
      hint: "Leave empty and the hub makes one and shows it once. Or paste the receiver's own: whsec_ followed by base64.",
      type: "password",
      optional: true,
      autoComplete: "off",
    },
  ],
  ntfy: [
    {
      key: "server",
      label: "Server",
      hint: "ntfy.sh or your own server, without a path.",
      initial: "https://ntfy.sh",
      inputMode: "url",
    },
    {
      key: "topic",
      label: "Topic",
      hint: "Letters, digits, - or _ (at most 64). On a public server, anyone who knows the topic can read it: make it long and random.",
    },
    {
      key: "token",
      label: "Access token (optional)",
      hint: "tk_… from your ntfy account, when the topic is protected.",
      type: "password",
      optional: true,
      autoComplete: "off",
    },
  ],
  email: [
    { key: "host", label: "SMTP server", hint: "A host name, e.g. smtp.example.com (no https:// or port)." },
    {
      key: "port",
      label: "Port",
      hint: "587 for STARTTLS, 465 for TLS.",
      type: "number",
      initial: "587",
      inputMode: "numeric",
    },
    {
      key: "security",
      label: "Security",
      type: "select",
      initial: "starttls",
      options: [
        { value: "starttls", label: "STARTTLS (usually port 587)" },
        { value: "tls", label: "TLS from the start (usually port 465)" },
        { value: "none", label: "None (only to a mail server on this machine)" },
      ],
    },
    { key: "username", label: "User name (optional)", optional: true, autoComplete: "off" },
    {
      key: "password",
      label: "Password (optional)",
      type: "password",
      optional: true,
      autoComplete: "new-password",
    },
    {
      key: "from",
      label: "From",
      hint: "One address the server lets this login send as.",
      type: "email",
      inputMode: "email",
    },
    {
      key: "to",
      label: "To",
      hint: "One or more addresses, separated by commas (at most 20).",
      inputMode: "email",
    },
  ],
  mqtt: [
    {
      key: "url",
      label: "Broker URL",
      hint: "mqtt://, mqtts://, ws:// or wss://, without a user name or password in it.",
      inputMode: "url",
    },
    {
      key: "topic",
      label: "Topic",
      hint: "e.g. latchkey/events; the event name is added after a /, so it must not end with one.",
      initial: "latchkey/events",
    },
    { key: "username", label: "User name (optional)", optional: true, autoComplete: "off" },
    {
      key: "password",
      label: "Password (optional)",
      type: "password",
      optional: true,
      autoComplete: "new-password",
    },
    { key: "retain", label: "Keep the last message on the broker (retain)", type: "checkbox", initial: "" },
  ],
  syslog: [
    {
      key: "host",
      label: "Collector",
      hint: "The host name on its TLS certificate, e.g. logs.example.com.",
    },
    {
      key: "port",
      label: "Port",
      hint: "6514 is syslog over TLS.",
      type: "number",
      initial: "6514",
      inputMode: "numeric",
    },
    {
      key: "facility",
      label: "Facility (optional)",
      hint: "authpriv unless your collector files Latchkey elsewhere (e.g. local3).",
      optional: true,
    },
  ],
  "json-lines": [
    {
      key: "path",
      label: "File (or leave empty and give a URL)",
      hint: "An absolute path on the hub's machine, e.g. /var/log/latchkey/events.jsonl.",
      optional: true,
    },
    {
      key: "url",
      label: "HTTP endpoint (or leave empty and give a file)",
      hint: "Each message is POSTed as one line of application/x-ndjson.",
      optional: true,
      inputMode: "url",
    },
    {
      key: "token",
      label: "Bearer token (optional)",
      type: "password",
      optional: true,
      autoComplete: "off",
    },
  ],
};

const FORM_KINDS = CHANNEL_KINDS.filter(
  (k): k is (typeof CHANNEL_KINDS)[number] & { value: FormKind } => k.value !== "web-push",
);

function initialValues(kind: FormKind): Record<string, string> {
  return Object.fromEntries(FIELDS[kind].map((f) => [f.key, f.initial ?? ""]));
}

/** The settings object the hub wants, from the form's text: empty optional fields left out. */
function settingsFrom(kind: FormKind, values: Record<string, string>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const f of FIELDS[kind]) {
    const raw = values[f.key] ?? "";
    const v = f.type === "password" ? raw : raw.trim();
    if (f.type === "checkbox") settings[f.key] = v === "on";
    else if (f.optional === true && v === "") continue;
    else if (f.type === "number") settings[f.key] = v === "" ? v : Number(v);
    else if (kind === "email" && f.key === "to") settings[f.key] = parseEvents(v);
    else settings[f.key] = v;
  }
  return settings;
}

/** Client-side hints before asking the hub (the hub still decides and its message wins). */
function localProblem(
  kind: FormKind,
  values: Record<string, string>,
): { field: string; message: string } | null {
  for (const f of FIELDS[kind]) {
    const v = (values[f.key] ?? "").trim();
    if (f.optional !== true && f.type !== "checkbox" && v === "")
      return { field: f.key, message: `${f.label} is needed.` };
  }
  return null;
}

function AddChannelSection({
  onAdded,
}: {
  onAdded: (channel: NotificationChannel, secret: string | null) => void;
}) {
  const [kind, setKind] = useState<FormKind>("webhook");
  const [name, setName] = useState("");
  const [events, setEvents] = useState("alert.*, approval.*");
  const [values, setValues] = useState<Record<string, string>>(() => initialValues("webhook"));
  const [hint, setHint] = useState<{ field: string; message: string } | null>(null);
  const { busy, error, setError, run } = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  const blamed = hint?.field ?? blamedField(error);
  const fieldError = (key: string): string | null =>
    blamed !== key ? null : hint !== null ? hint.message : hubMessage(error);
  const fieldKeys = new Set(["name", "events", ...FIELDS[kind].map((f) => f.key)]);
  const general =
    hint === null && error !== null && (blamed === null || !fieldKeys.has(blamed)) ? error : null;

  // Focus the field the hub (or the hint) blamed, so the person lands where to fix it.
  useEffect(() => {
    if (blamed === null) return;
    formRef.current?.querySelector<HTMLElement>(`[name="${CSS.escape(blamed)}"]`)?.focus();
  }, [blamed, error, hint]);

  const chooseKind = (k: FormKind) => {
    setKind(k);
    setValues(initialValues(k));
    setHint(null);
    setError(null);
  };
  const submit = onSubmit(() => {
    const problem =
      name.trim() === ""
        ? { field: "name", message: "Give the channel a name." }
        : localProblem(kind, values);
    setHint(problem);
    if (problem !== null) return;
    const body: NewChannel = {
      kind,
      name: name.trim(),
      settings: settingsFrom(kind, values),
      events: parseEvents(events),
    };
    void run(async () => {
      const added = await addChannel(body);
      setName("");
      setValues(initialValues(kind));
      setEvents("alert.*, approval.*");
      onAdded(added.channel, added.secret);
    });
  });
  const about = FORM_KINDS.find((k) => k.value === kind)?.help;
  return (
    <section className="card stack" aria-labelledby="add-title">
      <h2 id="add-title">Add a channel</h2>
      <form ref={formRef} className="stack form-narrow" onSubmit={submit} noValidate>
        <Field label="Kind" hint={about}>
          {({ id, describedBy }) => (
            <select
              id={id}
              name="kind"
              value={kind}
              onChange={(e) => chooseKind(e.target.value as FormKind)}
              aria-describedby={describedBy}
            >
              {FORM_KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Name"
          name="name"
          hint="For you, e.g. “Home Assistant” or “Alex's email”."
          value={name}
          onChange={setName}
          maxLength={80}
          autoComplete="off"
          error={fieldError("name")}
        />
        {FIELDS[kind].map((f) => (
          <SettingInput
            key={`${kind}-${f.key}`}
            spec={f}
            value={values[f.key] ?? ""}
            onChange={(v) => setValues((old) => ({ ...old, [f.key]: v }))}
            error={fieldError(f.key)}
          />
        ))}
        <TextField
          label="Events"
          name="events"
          hint="Which messages this channel gets: alert.* (every alert), a single one such as alert.lock-offline, test, or * for everything. Separate several with commas."
          value={events}
          onChange={setEvents}
          autoComplete="off"
          error={fieldError("events")}
        />
        <ErrorAlert error={general} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? "Adding…" : "Add channel"}
          </button>
        </div>
      </form>
    </section>
  );
}

function SettingInput({
  spec,
  value,
  onChange,
  error,
}: {
  spec: SettingSpec;
  value: string;
  onChange: (v: string) => void;
  error: string | null;
}) {
  if (spec.type === "checkbox")
    return (
      <div className="checkbox">
        <input
          id={`setting-${spec.key}`}
          name={spec.key}
          type="checkbox"
          checked={value === "on"}
          onChange={(e) => onChange(e.target.checked ? "on" : "")}
        />
        <label htmlFor={`setting-${spec.key}`}>{spec.label}</label>
      </div>
    );
  return (
    <Field label={spec.label} hint={spec.hint} error={error}>
      {({ id, describedBy, invalid }): ReactNode =>
        spec.type === "select" ? (
          <select
            id={id}
            name={spec.key}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
          >
            {spec.options?.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        ) : (
          <input
            id={id}
            name={spec.key}
            // type="url" would let the browser refuse ftp:// before the hub explains why.
            type={
              spec.type === "password"
                ? "password"
                : spec.type === "number"
                  ? "number"
                  : spec.type === "email"
                    ? "email"
                    : "text"
            }
            className={spec.type === "number" ? "short" : undefined}
            inputMode={spec.inputMode}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            autoComplete={spec.autoComplete ?? "off"}
            spellCheck={false}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
          />
        )
      }
    </Field>
  );
}

function ThisDeviceSection({ onAdded }: { onAdded: (channel: NotificationChannel) => void }) {
  const [unsupported] = useState(pushUnsupportedReason);
  const [name, setName] = useState(() => deviceName());
  const { busy, error, run } = useAction();
  const blamed = blamedField(error);
  return (
    <section className="card stack" aria-labelledby="device-title">
      <h2 id="device-title">This device</h2>
      {unsupported !== null ? (
        <Alert kind="info">{unsupported}</Alert>
      ) : (
        <form
          className="stack form-narrow"
          noValidate
          onSubmit={onSubmit(
            () =>
              void run(async () => {
                const added = await subscribeThisDevice(name.trim() === "" ? deviceName() : name.trim());
                onAdded(added.channel);
              }),
          )}
        >
          <p>
            Notifications from this browser, even while the page is closed. The browser asks whether to allow
            them; the hub encrypts each message to this device only (Web Push).
          </p>
          <TextField
            label="Name of this device"
            name="name"
            value={name}
            onChange={setName}
            maxLength={80}
            autoComplete="off"
            error={blamed === "name" ? hubMessage(error) : null}
          />
          {error === null || blamed === "name" ? null : (
            <Alert kind="error">{error instanceof PushSetupError ? error.message : errorText(error)}</Alert>
          )}
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              {busy ? "Setting up…" : "Get notifications on this device"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
