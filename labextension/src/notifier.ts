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
    this._memory = new NoticeMemory(options.storage);
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
    return this._memory.has(key);
  }

  private _set(key: string, value: boolean): void {
    this._memory.set(key, value);
  }

  private _countdown: () => ICountdown | null;
  private _isDisposed = false;
  private _memory: NoticeMemory;
  private _model: DeadlineNotifier.IModel;
  private _notify: DeadlineNotifier.INotify;
  private _now: () => number;
  private _periodMs: number;
  private _timer: ReturnType<typeof setInterval> | null = null;
}

/** Where notices are remembered: sessionStorage, falling back to memory. */
type NoticeStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Which notices were given, kept in `sessionStorage` (so a page reload does
 * not repeat them) and in memory when storage is missing or denied.
 */
export class NoticeMemory {
  /** `undefined`: the page's sessionStorage; `null`: memory only. */
  constructor(storage?: NoticeStorage | null) {
    this._storage = storage === undefined ? Private.sessionStorage() : storage;
  }

  has(key: string): boolean {
    if (this._storage) {
      try {
        return this._storage.getItem(key) !== null;
      } catch {
        // Storage denied (privacy mode): fall back to memory.
      }
    }
    return this._memory.has(key);
  }

  set(key: string, value: boolean): void {
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

  private _memory = new Set<string>();
  private _storage: NoticeStorage | null;
}

/**
 * Shows the control plane's idle warning (`me.session.idle.warning`) as a
 * notification, once per warning: a new one, given after the session was
 * used again, shows again. The sentence is the service's ("No activity for
 * 55 min; this session stops in 5 min unless you use it.").
 */
export class IdleNotifier {
  constructor(options: IdleNotifier.IOptions) {
    this._model = options.model;
    this._notify = options.notify ?? DeadlineNotifier.defaultNotify;
    this._memory = new NoticeMemory(options.storage);
    this._model.changed.connect(this.check, this);
    this.check();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (!this._isDisposed) {
      this._isDisposed = true;
      this._model.changed.disconnect(this.check, this);
    }
  }

  /** Notify of the current warning unless it was shown (the model calls it). */
  check(): void {
    const session = (this._model.data as IMe | null)?.session;
    const warning = session?.idle?.warning;
    if (this._isDisposed || !session || !warning) {
      return;
    }
    const key = idleWarningKey(session);
    if (!this._memory.has(key)) {
      this._memory.set(key, true);
      this._notify.warning(warning);
    }
  }

  private _isDisposed = false;
  private _memory: NoticeMemory;
  private _model: DeadlineNotifier.IModel;
  private _notify: DeadlineNotifier.INotify;
}

/** Statics of {@link IdleNotifier}. */
export namespace IdleNotifier {
  export interface IOptions {
    /** The labdeck model (`me`). */
    model: DeadlineNotifier.IModel;
    notify?: DeadlineNotifier.INotify;
    /** Where shown warnings are kept; `null` for memory only. */
    storage?: NoticeStorage | null;
  }
}

/** One idle warning: its session and when it was given (or what it stops at). */
export function idleWarningKey(session: ISessionInfo): string {
  const idle = session.idle;
  return `labdeck:idle-warning:${session.id}:${idle?.warned_at ?? idle?.stops_at}`;
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
