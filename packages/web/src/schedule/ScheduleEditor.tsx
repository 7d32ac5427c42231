/**
 * The access editor: category, weekly windows, valid from / until, one-time and use counts,
 * with the whole thing read back as one sentence while it is edited.
 */
import { useId, useState } from "react";
import {
  CATEGORIES,
  WEEKDAYS,
  type Category,
  type Door,
  type GrantTerms,
  type Weekday,
} from "../api/types.js";
import { CATEGORY_LABELS, DAY_NAMES, listJoin, termsSentence, zonedToEpoch } from "./sentence.js";

export interface WindowDraft {
  readonly days: Weekday[];
  readonly start: string;
  readonly end: string;
}

export interface TermsDraft {
  readonly category: Category;
  readonly scheduleKind: "always" | "weekly";
  readonly windows: WindowDraft[];
  readonly fromMode: "now" | "date";
  readonly fromDate: string;
  readonly fromTime: string;
  readonly untilMode: "never" | "date";
  /** The last day of access (inclusive). */
  readonly untilDate: string;
  readonly usesMode: "unlimited" | "once" | "count";
  readonly maxUses: string;
  readonly expireAfterFirstUse: boolean;
  readonly expireHours: string;
}

const EVERYDAY: readonly Category[] = ["family", "resident", "staff"];

export function defaultDraft(category: Category = "family"): TermsDraft {
  return {
    category,
    scheduleKind: EVERYDAY.includes(category) ? "always" : "weekly",
    windows: [{ days: ["fri"], start: "10:00", end: "12:00" }],
    fromMode: "now",
    fromDate: "",
    fromTime: "00:00",
    untilMode: "never",
    untilDate: "",
    usesMode: "unlimited",
    maxUses: "10",
    expireAfterFirstUse: false,
    expireHours: "24",
  };
}

function nextDay(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  const t = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + 1));
  return t.toISOString().slice(0, 10);
}

/** The API's grant terms for a draft, or a sentence saying what is missing. */
export function draftToTerms(draft: TermsDraft, timeZone: string): GrantTerms | string {
  if (draft.scheduleKind === "weekly") {
    for (const [i, w] of draft.windows.entries()) {
      if (w.days.length === 0) return `Choose at least one day for time ${i + 1}.`;
      if (!/^\d\d:\d\d$/.test(w.start) || !/^\d\d:\d\d$/.test(w.end))
        return `Enter both times for time ${i + 1}.`;
      if (w.start === w.end) return `Time ${i + 1} starts and ends at the same time.`;
    }
  }
  if (draft.fromMode === "date" && !/^\d{4}-\d\d-\d\d$/.test(draft.fromDate)) return "Choose the start date.";
  if (draft.untilMode === "date" && !/^\d{4}-\d\d-\d\d$/.test(draft.untilDate)) return "Choose the last day.";
  const validFrom =
    draft.fromMode === "date" ? zonedToEpoch(draft.fromDate, draft.fromTime || "00:00", timeZone) : null;
  const validUntil =
    draft.untilMode === "date" ? zonedToEpoch(nextDay(draft.untilDate), "00:00", timeZone) : null;
  if (validFrom !== null && validUntil !== null && validUntil <= validFrom)
    return "The last day is before the start.";
  const uses = Number(draft.maxUses);
  if (draft.usesMode === "count" && !(Number.isInteger(uses) && uses >= 1 && uses <= 1_000_000))
    return "Enter how many times (1 or more).";
  const hours = Number(draft.expireHours);
  if (draft.expireAfterFirstUse && !(hours > 0 && hours <= 366 * 24))
    return "Enter after how many hours access ends.";
  return {
    category: draft.category,
    schedule:
      draft.scheduleKind === "always"
        ? { kind: "always" }
        : {
            kind: "weekly",
            windows: draft.windows.map((w) => ({
              days: WEEKDAYS.filter((d) => w.days.includes(d)),
              start: w.start,
              end: w.end,
            })),
          },
    validFrom,
    validUntil,
    maxUses: draft.usesMode === "once" ? 1 : draft.usesMode === "count" ? uses : null,
    expiresAfterFirstUseSeconds: draft.expireAfterFirstUse ? Math.max(60, Math.round(hours * 3600)) : null,
  };
}

/** The API body for a grant on `doorIds`. */
export function grantBody(terms: GrantTerms, doorIds: string[]): Record<string, unknown> {
  return {
    doorIds,
    category: terms.category,
    schedule: terms.schedule,
    ...(terms.validFrom === null ? {} : { validFrom: terms.validFrom }),
    ...(terms.validUntil === null ? {} : { validUntil: terms.validUntil }),
    ...(terms.maxUses === null ? {} : { maxUses: terms.maxUses }),
    ...(terms.expiresAfterFirstUseSeconds === null
      ? {}
      : { expiresAfterFirstUseSeconds: terms.expiresAfterFirstUseSeconds }),
  };
}

export function ScheduleEditor({
  draft,
  onChange,
  timeZone,
  doors,
  doorIds,
}: {
  draft: TermsDraft;
  onChange: (d: TermsDraft) => void;
  timeZone: string;
  doors: readonly Door[];
  doorIds: readonly string[];
}) {
  const id = useId();
  // The sentence only needs the current year.
  const [now] = useState(Date.now);
  const set = (patch: Partial<TermsDraft>) => onChange({ ...draft, ...patch });
  const setWindow = (i: number, patch: Partial<WindowDraft>) =>
    set({ windows: draft.windows.map((w, j) => (j === i ? { ...w, ...patch } : w)) });
  const terms = draftToTerms(draft, timeZone);
  const doorNames = doors.filter((d) => doorIds.includes(d.id)).map((d) => d.name);
  const sentence =
    typeof terms === "string"
      ? terms
      : `${CATEGORY_LABELS[draft.category]}: ${termsSentence(terms, timeZone, now)}${doorNames.length === 0 ? "" : `, at ${listJoin(doorNames)}`}.`;

  return (
    <div className="stack schedule-editor">
      <div className="field">
        <label htmlFor={`${id}-category`}>Category</label>
        <select
          id={`${id}-category`}
          value={draft.category}
          onChange={(e) => {
            const category = e.target.value as Category;
            set({ category, scheduleKind: EVERYDAY.includes(category) ? "always" : "weekly" });
          }}
        >
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {CATEGORY_LABELS[c]}
            </option>
          ))}
        </select>
      </div>

      <fieldset className="choice">
        <legend>When may they come in?</legend>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-always`}
            checked={draft.scheduleKind === "always"}
            onChange={() => set({ scheduleKind: "always" })}
          />
          <label htmlFor={`${id}-always`}>At any time</label>
        </div>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-weekly`}
            checked={draft.scheduleKind === "weekly"}
            onChange={() => set({ scheduleKind: "weekly" })}
          />
          <label htmlFor={`${id}-weekly`}>Only on certain days and times</label>
        </div>
        {draft.scheduleKind === "weekly" ? (
          <div className="stack windows">
            {draft.windows.map((w, i) => (
              <fieldset key={i} className="window">
                <legend>{draft.windows.length > 1 ? `Time ${i + 1}` : "Days and hours"}</legend>
                <div className="sentence-row">
                  <span aria-hidden="true">Every</span>
                  <div className="day-pills" role="group" aria-label="Days">
                    {WEEKDAYS.map((d) => (
                      <span key={d} className="day-pill">
                        <input
                          type="checkbox"
                          id={`${id}-w${i}-${d}`}
                          checked={w.days.includes(d)}
                          onChange={(e) =>
                            setWindow(i, {
                              days: e.target.checked ? [...w.days, d] : w.days.filter((x) => x !== d),
                            })
                          }
                        />
                        <label htmlFor={`${id}-w${i}-${d}`}>
                          <span aria-hidden="true">{DAY_NAMES[d].slice(0, 3)}</span>
                          <span className="visually-hidden">{DAY_NAMES[d]}</span>
                        </label>
                      </span>
                    ))}
                  </div>
                </div>
                <div className="sentence-row">
                  <label htmlFor={`${id}-w${i}-start`}>from</label>
                  <input
                    type="time"
                    id={`${id}-w${i}-start`}
                    value={w.start}
                    onChange={(e) => setWindow(i, { start: e.target.value })}
                  />
                  <label htmlFor={`${id}-w${i}-end`}>to</label>
                  <input
                    type="time"
                    id={`${id}-w${i}-end`}
                    value={w.end}
                    onChange={(e) => setWindow(i, { end: e.target.value })}
                  />
                  {draft.windows.length > 1 ? (
                    <button
                      type="button"
                      className="button secondary small"
                      onClick={() => set({ windows: draft.windows.filter((_, j) => j !== i) })}
                    >
                      Remove
                    </button>
                  ) : null}
                </div>
                {w.end < w.start ? <p className="hint">Ends the next morning (overnight).</p> : null}
              </fieldset>
            ))}
            {draft.windows.length < 14 ? (
              <div>
                <button
                  type="button"
                  className="button secondary small"
                  onClick={() =>
                    set({ windows: [...draft.windows, { days: [], start: "09:00", end: "17:00" }] })
                  }
                >
                  Add other days or hours
                </button>
              </div>
            ) : null}
            <p className="hint">Times are local time at the site ({timeZone.replace(/_/g, " ")}).</p>
          </div>
        ) : null}
      </fieldset>

      <fieldset className="choice">
        <legend>Starting</legend>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-from-now`}
            checked={draft.fromMode === "now"}
            onChange={() => set({ fromMode: "now" })}
          />
          <label htmlFor={`${id}-from-now`}>Now</label>
        </div>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-from-date`}
            checked={draft.fromMode === "date"}
            onChange={() => set({ fromMode: "date" })}
          />
          <label htmlFor={`${id}-from-date`}>On a later date (the code can be sent ahead)</label>
        </div>
        {draft.fromMode === "date" ? (
          <div className="sentence-row indent">
            <label htmlFor={`${id}-from-day`}>on</label>
            <input
              type="date"
              id={`${id}-from-day`}
              value={draft.fromDate}
              onChange={(e) => set({ fromDate: e.target.value })}
            />
            <label htmlFor={`${id}-from-time`}>at</label>
            <input
              type="time"
              id={`${id}-from-time`}
              value={draft.fromTime}
              onChange={(e) => set({ fromTime: e.target.value })}
            />
          </div>
        ) : null}
      </fieldset>

      <fieldset className="choice">
        <legend>Ending</legend>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-until-never`}
            checked={draft.untilMode === "never"}
            onChange={() => set({ untilMode: "never" })}
          />
          <label htmlFor={`${id}-until-never`}>No end date</label>
        </div>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-until-date`}
            checked={draft.untilMode === "date"}
            onChange={() => set({ untilMode: "date" })}
          />
          <label htmlFor={`${id}-until-date`}>After a last day</label>
        </div>
        {draft.untilMode === "date" ? (
          <div className="sentence-row indent">
            <label htmlFor={`${id}-until-day`}>last day</label>
            <input
              type="date"
              id={`${id}-until-day`}
              value={draft.untilDate}
              onChange={(e) => set({ untilDate: e.target.value })}
            />
          </div>
        ) : null}
      </fieldset>

      <fieldset className="choice">
        <legend>How many times</legend>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-uses-any`}
            checked={draft.usesMode === "unlimited"}
            onChange={() => set({ usesMode: "unlimited" })}
          />
          <label htmlFor={`${id}-uses-any`}>No limit</label>
        </div>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-uses-once`}
            checked={draft.usesMode === "once"}
            onChange={() => set({ usesMode: "once" })}
          />
          <label htmlFor={`${id}-uses-once`}>One time only</label>
        </div>
        <div className="radio">
          <input
            type="radio"
            id={`${id}-uses-count`}
            checked={draft.usesMode === "count"}
            onChange={() => set({ usesMode: "count" })}
          />
          <label htmlFor={`${id}-uses-count`}>A limited number of times</label>
        </div>
        {draft.usesMode === "count" ? (
          <div className="sentence-row indent">
            <label htmlFor={`${id}-uses-n`}>up to</label>
            <input
              type="number"
              inputMode="numeric"
              min={1}
              max={1000000}
              id={`${id}-uses-n`}
              className="short"
              value={draft.maxUses}
              onChange={(e) => set({ maxUses: e.target.value })}
            />
            <span>times</span>
          </div>
        ) : null}
        <div className="checkbox">
          <input
            type="checkbox"
            id={`${id}-expire`}
            checked={draft.expireAfterFirstUse}
            onChange={(e) => set({ expireAfterFirstUse: e.target.checked })}
          />
          <label htmlFor={`${id}-expire`}>Ends a while after the first use</label>
        </div>
        {draft.expireAfterFirstUse ? (
          <div className="sentence-row indent">
            <label htmlFor={`${id}-expire-h`}>ends</label>
            <input
              type="number"
              min={1}
              id={`${id}-expire-h`}
              className="short"
              value={draft.expireHours}
              onChange={(e) => set({ expireHours: e.target.value })}
            />
            <span>hours after the first use</span>
          </div>
        ) : null}
      </fieldset>

      <div className={`sentence-preview${typeof terms === "string" ? " sentence-problem" : ""}`}>
        <div className="label-like">In short</div>
        <p aria-live="polite" data-testid="schedule-sentence">
          {sentence}
        </p>
      </div>
    </div>
  );
}
