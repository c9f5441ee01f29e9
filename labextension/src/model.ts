import { Token } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import { asRequestError, LabdeckRequestError, requestAPI } from './request';
import {
  DEFAULT_REFRESH_INTERVAL_SECONDS,
  IMe,
  MAX_BACKOFF_SECONDS,
  MIN_REFRESH_INTERVAL_SECONDS
} from './tokens';

/**
 * Holds the latest answer of `GET me` and refreshes it periodically.
 *
 * The sidebar and the status bar item share one model, hence one fetch
 * loop. Polling pauses while the browser tab is hidden and resumes with an
 * immediate fetch when it is shown again; after failures the period doubles
 * (up to {@link MAX_BACKOFF_SECONDS}) so a down server is not hammered.
 */
export class LabdeckModel {
  constructor(options: LabdeckModel.IOptions = {}) {
    this._fetchMe = options.fetchMe ?? (() => requestAPI<IMe>('me'));
    this._document =
      options.document ?? (typeof document === 'undefined' ? null : document);
    this._intervalSeconds = LabdeckModel.clampInterval(
      options.refreshIntervalSeconds ?? DEFAULT_REFRESH_INTERVAL_SECONDS
    );
  }

  /** Emitted whenever `me`, `error` or `loading` changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The latest successful answer, `null` before the first one. */
  get me(): IMe | null {
    return this._me;
  }

  /** The error of the latest fetch, `null` if it succeeded. */
  get error(): LabdeckRequestError | null {
    return this._error;
  }

  /** Whether a fetch is in flight. */
  get loading(): boolean {
    return this._pending !== null;
  }

  /** When `me` was last fetched successfully (epoch ms), or `null`. */
  get lastUpdated(): number | null {
    return this._lastUpdated;
  }

  /** Whether the model has been disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Seconds between two fetches (at least {@link MIN_REFRESH_INTERVAL_SECONDS}). */
  get refreshIntervalSeconds(): number {
    return this._intervalSeconds;
  }
  set refreshIntervalSeconds(value: number) {
    const seconds = LabdeckModel.clampInterval(value);
    if (seconds === this._intervalSeconds) {
      return;
    }
    this._intervalSeconds = seconds;
    if (this._started) {
      this._schedule();
    }
  }

  /**
   * Start polling: fetch now, then every `refreshIntervalSeconds`.
   * Calling it again does nothing.
   */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    this._document?.addEventListener('visibilitychange', this._onVisibility);
    void this.refresh();
  }

  /**
   * Fetch `me` now. Concurrent calls share one request.
   *
   * Never rejects: a failure is stored in `error` (the last good `me` is
   * kept so the UI can still show it).
   */
  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    if (this._pending) {
      return this._pending;
    }
    this._pending = this._fetch();
    this._changed.emit();
    return this._pending;
  }

  /** Stop polling and release listeners. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimer();
    this._document?.removeEventListener('visibilitychange', this._onVisibility);
    Signal.clearData(this);
  }

  private async _fetch(): Promise<void> {
    this._clearTimer();
    try {
      const me = await this._fetchMe();
      this._me = me;
      this._error = null;
      this._failures = 0;
      this._lastUpdated = Date.now();
    } catch (reason) {
      this._error = asRequestError(reason);
      this._failures += 1;
    } finally {
      this._pending = null;
    }
    if (this._isDisposed) {
      return;
    }
    this._changed.emit();
    if (this._started) {
      this._schedule();
    }
  }

  /** Plan the next fetch, unless the tab is hidden or one is in flight. */
  private _schedule(): void {
    this._clearTimer();
    if (this._isDisposed || this._pending || this._hidden()) {
      return;
    }
    const backoff = Math.min(2 ** this._failures, 2 ** 10);
    const seconds = Math.min(
      this._intervalSeconds * backoff,
      Math.max(MAX_BACKOFF_SECONDS, this._intervalSeconds)
    );
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, seconds * 1000);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _hidden(): boolean {
    return this._document?.visibilityState === 'hidden';
  }

  private _onVisibility = (): void => {
    if (this._hidden()) {
      this._clearTimer();
    } else {
      void this.refresh();
    }
  };

  private _changed = new Signal<this, void>(this);
  private _document: Document | null;
  private _error: LabdeckRequestError | null = null;
  private _failures = 0;
  private _fetchMe: () => Promise<IMe>;
  private _intervalSeconds: number;
  private _isDisposed = false;
  private _lastUpdated: number | null = null;
  private _me: IMe | null = null;
  private _pending: Promise<void> | null = null;
  private _started = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/** Statics of {@link LabdeckModel}. */
export namespace LabdeckModel {
  export interface IOptions {
    /** Seconds between fetches; defaults to 30, at least 5. */
    refreshIntervalSeconds?: number;
    /** How to fetch `me`; defaults to `requestAPI('me')` (tests inject one). */
    fetchMe?: () => Promise<IMe>;
    /** Document whose visibility pauses polling; `null` to never pause. */
    document?: Document | null;
  }

  /** Bring a configured period into the accepted range. */
  export function clampInterval(seconds: number): number {
    if (!Number.isFinite(seconds)) {
      return DEFAULT_REFRESH_INTERVAL_SECONDS;
    }
    return Math.max(MIN_REFRESH_INTERVAL_SECONDS, seconds);
  }
}

/**
 * Token of the shared {@link LabdeckModel}, provided by the `labdeck:sidebar`
 * plugin so other labdeck plugins (status bar, later panels) reuse its
 * fetch loop.
 */
export const ILabdeckModel = new Token<LabdeckModel>(
  'labdeck:ILabdeckModel',
  'The labdeck model: the latest answer of the labdeck `me` API, refreshed periodically.'
);
