/**
 * Live data: `usePoll` fetches now, then again every few seconds while the page is visible, and
 * keeps the last good answer on screen (no spinner, no flicker: state changes only when the
 * answer does). Polling pauses after 25 minutes without a key press, click or touch, so an open
 * dashboard does not keep a forgotten session alive forever (every request counts as activity
 * for the hub's 30-minute idle timeout); any interaction resumes it.
 */
import { useCallback, useEffect, useRef, useState } from "react";

export const POLL_MS = 2_000;
const IDLE_PAUSE_MS = 25 * 60_000;

let lastInteraction = Date.now();
let watching = false;
function watchInteraction(): void {
  if (watching) return;
  watching = true;
  const mark = () => {
    lastInteraction = Date.now();
  };
  for (const type of ["keydown", "pointerdown", "touchstart"])
    window.addEventListener(type, mark, { capture: true, passive: true });
}

export interface Poll<T> {
  readonly data: T | null;
  readonly error: unknown;
  /** True while polling rests because nobody has used the page for a while. */
  readonly paused: boolean;
  /** Fetch now (after a change this page made), without waiting for the next tick. */
  readonly refresh: () => void;
}

/** `load` must keep its identity between renders (`useCallback` over what it reads): a new `load` starts over. */
export function usePoll<T>(load: () => Promise<T>, everyMs = POLL_MS): Poll<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [paused, setPaused] = useState(false);
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    watchInteraction();
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let lastJson = "";
    let isPaused = false;
    const schedule = () => {
      clearTimeout(timer);
      if (!live || document.visibilityState !== "visible") return;
      timer = setTimeout(() => void tick(false), everyMs);
    };
    const tick = async (forced: boolean): Promise<void> => {
      if (!live) return;
      if (running) {
        again = true;
        return;
      }
      if (!forced && Date.now() - lastInteraction > IDLE_PAUSE_MS) {
        isPaused = true;
        setPaused(true);
        return;
      }
      isPaused = false;
      setPaused(false);
      running = true;
      try {
        const d = await load();
        const json = JSON.stringify(d);
        if (live && json !== lastJson) {
          lastJson = json;
          setData(d);
        }
        if (live) setError(null);
      } catch (e) {
        if (live) setError(e);
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void tick(true);
      } else schedule();
    };
    const resume = () => {
      if (document.visibilityState === "visible") void tick(true);
      else clearTimeout(timer);
    };
    const onInteraction = () => {
      // Resume a paused poll on the first interaction after the pause.
      if (isPaused) void tick(true);
    };
    kick.current = () => void tick(true);
    document.addEventListener("visibilitychange", resume);
    window.addEventListener("pointerdown", onInteraction);
    window.addEventListener("keydown", onInteraction);
    void tick(true);
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", resume);
      window.removeEventListener("pointerdown", onInteraction);
      window.removeEventListener("keydown", onInteraction);
    };
  }, [load, everyMs]);
  return { data, error, paused, refresh: () => kick.current() };
}

/**
 * A polite live region's text: the latest announcement, cleared and set again so a repeated
 * sentence is read again. Render it inside an element with `aria-live="polite"`.
 */
export function useAnnouncer(): [string, (text: string) => void] {
  const [text, setText] = useState("");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  // Stable, so effects that announce need not run again because of it.
  const announce = useCallback((t: string) => {
    setText("");
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setText(t), 50);
  }, []);
  return [text, announce];
}

/** The time now, read again every `everyMs`: a countdown's clock (render itself must not read the time). */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
