import { RefObject, useCallback, useEffect, useRef, useState } from 'react';

/**
 * The current time (epoch ms), re-rendering every `periodMs` while
 * `enabled`; used by countdowns so they tick without refetching.
 */
export function useNow(enabled: boolean, periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) {
      return;
    }
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [enabled, periodMs]);
  return now;
}

/** An async action the user starts from a button or a form. */
export interface IAction<K extends string> {
  /** The action running now, `null` when none. */
  busy: K | null;
  /** Why the last action failed, `null` after a success. */
  error: string | null;
  /**
   * Run `action` as `what`: busy meanwhile, its failure kept readable in
   * `error`. Resolves to whether it succeeded; never rejects.
   */
  run: (what: K, action: () => Promise<unknown>) => Promise<boolean>;
  /** Forget the last error (e.g. when the user edits the form). */
  clearError: () => void;
}

/**
 * Busy and error state around the async actions of one component (stop
 * a session, connect or terminate a cluster, create one...).
 */
export function useAction<K extends string>(): IAction<K> {
  const [busy, setBusy] = useState<K | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (what: K, action: () => Promise<unknown>): Promise<boolean> => {
      setBusy(what);
      setError(null);
      try {
        await action();
        return true;
      } catch (reason) {
        setError(reason instanceof Error ? reason.message : String(reason));
        return false;
      } finally {
        setBusy(null);
      }
    },
    []
  );
  const clearError = useCallback(() => setError(null), []);
  return { busy, error, run, clearError };
}

/**
 * Apply each new draft once: a value proposed to a form from elsewhere
 * (the file browser, a finished job), told apart by its `serial`. The
 * form (given the returned ref) comes into view with its first select
 * focused: what the user picks next.
 */
export function useDraft<D extends { serial: number }>(
  draft: D | null | undefined,
  apply: (draft: D) => void
): RefObject<HTMLFormElement> {
  const form = useRef<HTMLFormElement>(null);
  const applied = useRef<number | null>(null);
  // The latest `apply`, without applying a draft again when it changes.
  const latest = useRef(apply);
  latest.current = apply;
  useEffect(() => {
    if (!draft || draft.serial === applied.current) {
      return;
    }
    applied.current = draft.serial;
    latest.current(draft);
    const node = form.current;
    node?.scrollIntoView?.({ block: 'nearest' });
    node?.querySelector('select')?.focus();
  }, [draft]);
  return form;
}
