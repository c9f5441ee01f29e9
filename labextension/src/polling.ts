import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { asRequestError, isRestarting, LabdeckRequestError } from './request';
import { MAX_BACKOFF_SECONDS } from './tokens';

/**
 * While labdeck's service restarts (about 10 s after a crash) polls retry
 * from its `Retry-After` (or this, in seconds), backing off up to
 * {@link RESTART_MAX_BACKOFF_SECONDS}: soon enough to clear the message
 * shortly after it is back.
 */
export const RESTART_RETRY_SECONDS = 3;
export const RESTART_MAX_BACKOFF_SECONDS = 15;

/**
 * Data the lab reads from a labdeck API and keeps fresh: the latest
 * answer, the latest error and whether a fetch is in flight.
 *
 * One JupyterLab `Poll` drives the fetches, as in JupyterLab's own
 * `SessionManager`: it backs off (with jitter, up to `maxInterval`) while
 * fetches fail so a down server is not hammered, and stands by while the
 * browser tab is hidden; the model fetches at once when the tab is shown
 * again. A subclass says how to fetch (`load`) and, through
 * `isTransitional`, when its data is about to change by itself (a cluster
 * starting) so polling speeds up to `fastInterval` meanwhile.
 */
export abstract class PolledModel<T> implements IDisposable {
  constructor(options: PolledModel.IOptions) {
    this._interval = options.interval;
    this._fastInterval = options.fastInterval ?? options.interval;
    this._maxInterval = options.maxInterval ?? MAX_BACKOFF_SECONDS * 1000;
    this._poll = new Poll<void, LabdeckRequestError>({
      auto: false,
      factory: () => this._fetch(),
      frequency: this._frequency(this._interval),
      // Stand by from the first tick the tab is hidden, not one tick later.
      linger: 0,
      name: options.name,
      standby: 'when-hidden'
    });
  }

  /** Emitted whenever `data`, `error` or `loading` changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The latest successful answer, `null` before the first one. */
  get data(): T | null {
    return this._data;
  }

  /** The error of the latest fetch, `null` if it succeeded. */
  get error(): LabdeckRequestError | null {
    return this._error;
  }

  /** Whether a fetch is in flight. */
  get loading(): boolean {
    return this._pending !== null;
  }

  /** When `data` was last fetched successfully (epoch ms), or `null`. */
  get lastUpdated(): number | null {
    return this._lastUpdated;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Whether `start` has been called. */
  get isStarted(): boolean {
    return this._started;
  }

  /**
   * Milliseconds between two polls while fetches succeed and nothing is
   * transitional. A shorter period brings the planned poll forward; a
   * longer one applies from the next poll on.
   */
  get interval(): number {
    return this._interval;
  }
  set interval(ms: number) {
    this._interval = ms;
    this._plan();
  }

  /** Start polling: fetch now, then periodically. Calling it again does nothing. */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this._onVisibility);
    }
    // Plan the first poll one period ahead and fetch now, rather than
    // `Poll.start()`: its immediate tick would make the poll's backoff
    // start from 0 ms if that first fetch failed.
    void this._poll.schedule({ phase: 'started' });
    void this.refresh();
  }

  /**
   * Fetch now. Concurrent calls share one request.
   *
   * Never rejects: a failure is stored in `error` (the last good `data` is
   * kept so the UI can still show it). A success restarts the polling
   * rhythm: no poll right after it, and no backoff left to wait out.
   */
  async refresh(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    try {
      await this._fetch();
    } catch {
      // Already in `error`; the poll keeps its own backoff, but comes back
      // soon to a service that is only restarting.
      if (isRestarting(this._error)) {
        this._retrySoon();
      }
      return;
    }
    if (this._started && !this._isDisposed) {
      void this._poll.schedule({ phase: 'resolved' });
    }
  }

  /** Stop polling and release listeners. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', this._onVisibility);
    }
    Signal.clearData(this);
  }

  /** Fetch the data; a rejection becomes `error`. */
  protected abstract load(): Promise<T>;

  /**
   * Whether `data` is about to change by itself, so that polling at
   * `fastInterval` shows the change soon. Nothing is, by default.
   */
  protected isTransitional(_data: T): boolean {
    return false;
  }

  /**
   * Show data changed by this client (a cluster just created) before the
   * next fetch confirms it; polling speeds up if it is now transitional.
   */
  protected setData(data: T): void {
    if (this._isDisposed) {
      return;
    }
    this._data = data;
    this._changed.emit();
    this._plan();
  }

  /** Tell views that state the subclass holds besides `data` changed. */
  protected emitChanged(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  /**
   * Fetch anew after a change this client made: an answer already on its
   * way may predate the change, so it is waited for and not trusted.
   */
  protected async refreshAfterChange(): Promise<void> {
    await this._pending?.catch(() => undefined);
    await this.refresh();
  }

  /** The shared request: rejects on failure so that the poll backs off. */
  private _fetch(): Promise<void> {
    if (!this._pending) {
      // Cleared in a callback, hence after the assignment even if `load`
      // fails synchronously.
      this._pending = this._load().finally(() => {
        this._pending = null;
        if (!this._isDisposed) {
          this._changed.emit();
        }
      });
      this._changed.emit();
    }
    return this._pending;
  }

  private async _load(): Promise<void> {
    try {
      const data = await this.load();
      if (this._isDisposed) {
        return;
      }
      this._data = data;
      this._error = null;
      this._lastUpdated = Date.now();
      this._plan();
    } catch (reason) {
      this._error = asRequestError(reason);
      if (isRestarting(this._error) && !this._isDisposed) {
        // read by the poll when it plans the retry of this failure; the next
        // success puts the usual frequency back (`_plan`)
        const max = 1000 * RESTART_MAX_BACKOFF_SECONDS;
        const retryAfter =
          this._error.retryAfterSeconds ?? RESTART_RETRY_SECONDS;
        this._poll.frequency = {
          backoff: true,
          interval: Math.min(max, 1000 * retryAfter),
          max
        };
      }
      throw this._error;
    }
  }

  /**
   * Set the poll's period from the data; bring the planned poll forward
   * if it is further away than the new period (while a fetch is in flight
   * the poll plans the next one itself when it ends).
   */
  private _plan(): void {
    if (this._isDisposed) {
      return;
    }
    const busy = this._data !== null && this.isTransitional(this._data);
    const interval = busy ? this._fastInterval : this._interval;
    this._poll.frequency = this._frequency(interval);
    const planned = this._poll.state;
    if (
      this._started &&
      this._pending === null &&
      planned.timestamp + planned.interval > Date.now() + interval
    ) {
      void this._poll.schedule({ interval, phase: planned.phase });
    }
  }

  /** Bring the planned poll forward to the restart retry period, if later. */
  private _retrySoon(): void {
    if (!this._started || this._isDisposed) {
      return;
    }
    const interval = this._poll.frequency.interval;
    const planned = this._poll.state;
    if (planned.timestamp + planned.interval > Date.now() + interval) {
      void this._poll.schedule({ interval, phase: 'rejected' });
    }
  }

  private _frequency(interval: number): IPoll.Frequency {
    return {
      backoff: true,
      interval,
      max: Math.max(this._maxInterval, interval)
    };
  }

  private _onVisibility = (): void => {
    if (document.visibilityState !== 'hidden') {
      void this.refresh();
    }
  };

  private _changed = new Signal<this, void>(this);
  private _data: T | null = null;
  private _error: LabdeckRequestError | null = null;
  private _fastInterval: number;
  private _interval: number;
  private _isDisposed = false;
  private _lastUpdated: number | null = null;
  private _maxInterval: number;
  private _pending: Promise<void> | null = null;
  private _poll: Poll<void, LabdeckRequestError>;
  private _started = false;
}

/** Statics of {@link PolledModel}. */
export namespace PolledModel {
  export interface IOptions {
    /** Milliseconds between polls. */
    interval: number;
    /** Milliseconds between polls while the data is transitional; defaults to `interval`. */
    fastInterval?: number;
    /**
     * Longest wait between polls while fetches keep failing; defaults to
     * {@link MAX_BACKOFF_SECONDS}, as for every labdeck poll.
     */
    maxInterval?: number;
    /** Name of the poll, for debugging. */
    name: string;
  }
}
