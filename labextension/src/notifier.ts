import { Notification } from '@jupyterlab/apputils';

import { profileDisplayName, remainingMilliseconds } from './format';
import { LabdeckModel } from './model';
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
 * Warns before the session's deadline, once per threshold of
 * `me.warn_before_seconds`, and says when the session has ended.
 *
 * It checks the live countdown every second (not only when `me` is
 * fetched). What was already announced is kept in `sessionStorage`, keyed
 * by session id and threshold, so reloading the page does not repeat a
 * warning; without storage it is remembered in memory.
 */
export class DeadlineNotifier {
  constructor(options: DeadlineNotifier.IOptions) {
    this._model = options.model;
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
    const me = this._model.me;
    const session = me?.session;
    if (this._isDisposed || !me || !session) {
      return;
    }
    const remainingMs = remainingMilliseconds(session.deadline, this._now());
    if (remainingMs === null) {
      return;
    }
    const remaining = remainingMs / 1000;
    const thresholds = normalizeThresholds(
      me.warn_before_seconds ?? DEFAULT_WARN_BEFORE_SECONDS
    );
    const before = this._loadFired(session.id, thresholds);
    const decision = evaluateThresholds(remaining, thresholds, before);
    this._saveFired(session.id, thresholds, before, decision.fired);
    const profile = profileDisplayName(me.profiles, session.profile);
    if (decision.notify !== null) {
      this._notify.warning(
        warningMessage(
          profile,
          announcedSeconds(decision.notify, remaining),
          session.deadline_reason
        )
      );
    }
    if (remaining <= 0) {
      if (!this._has(endedKey(session.id))) {
        this._set(endedKey(session.id), true);
        this._notify.info(endedMessage(profile, session.deadline_reason));
      }
      // Nothing left to count down until `me` changes.
      this._stopTimer();
    }
  }

  private _onModelChanged(): void {
    const session = Private.timedSession(this._model.me);
    if (session) {
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
    sessionId: number,
    thresholds: readonly number[]
  ): Set<number> {
    return new Set(thresholds.filter(t => this._has(firedKey(sessionId, t))));
  }

  private _saveFired(
    sessionId: number,
    thresholds: readonly number[],
    before: ReadonlySet<number>,
    after: ReadonlySet<number>
  ): void {
    for (const t of thresholds) {
      if (before.has(t) !== after.has(t)) {
        this._set(firedKey(sessionId, t), after.has(t));
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

  private _isDisposed = false;
  private _memory = new Set<string>();
  private _model: LabdeckModel;
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

  export interface IOptions {
    model: LabdeckModel;
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
