import { Notification } from '@jupyterlab/apputils';

import { ISignal } from '@lumino/signaling';

import { profileDisplayName, remainingMilliseconds } from './format';
import {
  announcedSeconds,
  endedKey,
  endedMessage,
  evaluateThresholds,
  firedKey,
  normalizeThresholds,
  warningMessage
} from './thresholds';
import { DEFAULT_WARN_BEFORE_SECONDS, IMe, ISessionInfo } from './tokens';

/**
 * What a {@link DeadlineNotifier} counts down to, and how it speaks of it:
 * a lab session's deadline, or the moment a user's running Spark clusters
 * will have spent their daily core time.
 */
export interface ICountdown {
  /** Keys the thresholds already warned about (a session id, `spark-budget`). */
  id: string | number;
  /** Keys the "has ended" notice when that is not `id`. */
  endedId?: string | number;
  /** When it reaches zero (ISO 8601). */
  deadline: string;
  /** Seconds before the deadline to warn at. */
  thresholds: readonly number[] | null | undefined;
  /** The warning that announces `seconds` left. */
  warning(seconds: number): string;
  /** The notice once the deadline has passed. */
  ended(): string;
}

/**
 * The countdown of the running session in `me`, `null` without one (or
 * without a deadline).
 */
export function sessionCountdown(me: IMe | null): ICountdown | null {
  const session = Private.timedSession(me);
  if (!me || !session?.deadline) {
    return null;
  }
  const profile = profileDisplayName(me.profiles, session.profile);
  return {
    id: session.id,
    deadline: session.deadline,
    thresholds: me.warn_before_seconds ?? DEFAULT_WARN_BEFORE_SECONDS,
    warning: seconds =>
      warningMessage(profile, seconds, session.deadline_reason),
    ended: () => endedMessage(profile, session.deadline_reason)
  };
}

/**
 * Warns before a deadline, once per threshold (`me.warn_before_seconds`
 * for the session), and says when it has passed.
 *
 * It checks the live countdown every second (not only when the model is
 * fetched). What was already announced is kept in `sessionStorage`, keyed
 * by the countdown's id and threshold, so reloading the page does not
 * repeat a warning; without storage it is remembered in memory.
 */
export class DeadlineNotifier {
  constructor(options: DeadlineNotifier.IOptions) {
    this._model = options.model;
    this._countdown =
      options.countdown ??
      (() => sessionCountdown(options.model.data as IMe | null));
    this._notify = options.notify ?? DeadlineNotifier.defaultNotify;
    this._storage =
      options.storage === undefined
        ? Private.sessionStorage()
        : options.storage;
    this._now = options.now ?? Date.now;
    this._periodMs = options.periodMs ?? 1000;
    this._model.changed.connect(this._onModelChanged, this);
    this._onModelChanged();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._stopTimer();
    this._model.changed.disconnect(this._onModelChanged, this);
  }

  /** Compare the countdown with the thresholds now (the timer calls it). */
  check(): void {
    const countdown = this._isDisposed ? null : this._countdown();
    if (!countdown) {
      return;
    }
    const remainingMs = remainingMilliseconds(countdown.deadline, this._now());
    if (remainingMs === null) {
      return;
    }
    const remaining = remainingMs / 1000;
    const thresholds = normalizeThresholds(
      countdown.thresholds ?? DEFAULT_WARN_BEFORE_SECONDS
    );
    const before = this._loadFired(countdown.id, thresholds);
    const decision = evaluateThresholds(remaining, thresholds, before);
    this._saveFired(countdown.id, thresholds, before, decision.fired);
    if (decision.notify !== null) {
      this._notify.warning(
        countdown.warning(announcedSeconds(decision.notify, remaining))
      );
    }
    if (remaining <= 0) {
      const ended = endedKey(countdown.endedId ?? countdown.id);
      if (!this._has(ended)) {
        this._set(ended, true);
        this._notify.info(countdown.ended());
      }
      // Nothing left to count down until the model changes.
      this._stopTimer();
    }
  }

  private _onModelChanged(): void {
    if (this._countdown()) {
      this._startTimer();
      this.check();
    } else {
      this._stopTimer();
    }
  }

  private _startTimer(): void {
    if (this._timer === null && !this._isDisposed) {
      this._timer = setInterval(() => this.check(), this._periodMs);
    }
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _loadFired(
    id: string | number,
    thresholds: readonly number[]
  ): Set<number> {
    return new Set(thresholds.filter(t => this._has(firedKey(id, t))));
  }

  private _saveFired(
    id: string | number,
    thresholds: readonly number[],
    before: ReadonlySet<number>,
    after: ReadonlySet<number>
  ): void {
    for (const t of thresholds) {
      if (before.has(t) !== after.has(t)) {
        this._set(firedKey(id, t), after.has(t));
      }
    }
  }

  private _has(key: string): boolean {
    if (this._storage) {
      try {
        return this._storage.getItem(key) !== null;
      } catch {
        // Storage denied (privacy mode): fall back to memory.
      }
    }
    return this._memory.has(key);
  }

  private _set(key: string, value: boolean): void {
    if (value) {
      this._memory.add(key);
    } else {
      this._memory.delete(key);
    }
    if (this._storage) {
      try {
        if (value) {
          this._storage.setItem(key, '1');
        } else {
          this._storage.removeItem(key);
        }
      } catch {
        // Memory keeps it for this page.
      }
    }
  }

  private _countdown: () => ICountdown | null;
  private _isDisposed = false;
  private _memory = new Set<string>();
  private _model: DeadlineNotifier.IModel;
  private _notify: DeadlineNotifier.INotify;
  private _now: () => number;
  private _periodMs: number;
  private _storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  private _timer: ReturnType<typeof setInterval> | null = null;
}

/** Statics of {@link DeadlineNotifier}. */
export namespace DeadlineNotifier {
  /** How messages are shown (JupyterLab notifications by default). */
  export interface INotify {
    warning(message: string): void;
    info(message: string): void;
  }

  /** A polled model: its `changed` says when the countdown may have moved. */
  export interface IModel {
    readonly changed: ISignal<unknown, void>;
    readonly data: unknown;
  }

  export interface IOptions {
    /**
     * The model the countdown comes from: the labdeck model (`me`) for the
     * session, or another polled model with `countdown`.
     */
    model: IModel;
    /** The countdown now; by default the session's in `model.data` (`me`). */
    countdown?: () => ICountdown | null;
    notify?: INotify;
    /** Where fired thresholds are kept; `null` for memory only. */
    storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
    /** Clock (tests inject one). */
    now?: () => number;
    /** Period of the countdown check, 1000 ms by default. */
    periodMs?: number;
  }

  /** Sticky JupyterLab notifications: they stay until dismissed. */
  export const defaultNotify: INotify = {
    warning: message => {
      Notification.warning(message, { autoClose: false });
    },
    info: message => {
      Notification.info(message, { autoClose: false });
    }
  };
}

namespace Private {
  /** The page's sessionStorage, `null` when unavailable. */
  export function sessionStorage(): Storage | null {
    try {
      return typeof window === 'undefined' ? null : window.sessionStorage;
    } catch {
      return null;
    }
  }

  /** The running session when it has a deadline. */
  export function timedSession(me: IMe | null): ISessionInfo | null {
    const session = me?.session;
    return session && session.deadline ? session : null;
  }
}
