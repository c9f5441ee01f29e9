import { ISignal, Signal } from '@lumino/signaling';

import { asRequestError, LabdeckRequestError } from '../request';
import { ISparkAPI, SparkAPI } from './api';
import {
  detailsToFetch,
  isLive,
  isTransitional,
  pollDelay,
  withDetail
} from './logic';
import { ICluster, ICreateClusterRequest, ISparkConnection } from './tokens';

/**
 * The user's Spark clusters and the cluster PySpark notebooks use.
 *
 * Polls `GET clusters` every ~1.5 s while a cluster starts or terminates
 * and every 30 s otherwise (see {@link pollDelay}); running clusters get
 * their detail from `GET clusters/<id>`. Like the `me` model it pauses
 * while the browser tab is hidden and backs off while the service fails.
 */
export class SparkModel {
  constructor(options: SparkModel.IOptions = {}) {
    this._api = options.api ?? new SparkAPI();
    this._document =
      options.document ?? (typeof document === 'undefined' ? null : document);
  }

  /** Emitted whenever clusters, connection, error or loading change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Clusters, newest first (with detail for running ones); `null` before the first answer. */
  get clusters(): ICluster[] | null {
    return this._clusters;
  }

  /** The cluster PySpark notebooks use, `null` if unknown or none. */
  get connection(): ISparkConnection | null {
    return this._connection;
  }

  /** Error of the last list fetch, `null` if it succeeded. */
  get error(): LabdeckRequestError | null {
    return this._error;
  }

  /** Whether a fetch is in flight. */
  get loading(): boolean {
    return this._pending !== null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Start polling (and read the connection once). Idempotent. */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    this._document?.addEventListener('visibilitychange', this._onVisibility);
    void this.refreshConnection();
    void this.refresh();
  }

  /**
   * Fetch the clusters now; concurrent calls share one request. Never
   * rejects: failures land in `error`.
   */
  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    if (!this._pending) {
      this._pending = this._fetch();
      this._changed.emit();
    }
    return this._pending;
  }

  /** Read which cluster PySpark notebooks use (never rejects). */
  async refreshConnection(): Promise<void> {
    try {
      const connection = await this._api.connection();
      if (!this._isDisposed) {
        this._connection = connection;
        this._changed.emit();
      }
    } catch (reason) {
      // Not fatal: the panel just does not mark a connected cluster.
      console.warn('labdeck: cannot read the Spark connection.', reason);
    }
  }

  /**
   * Create a cluster; it shows at once (STARTING) and polling speeds up.
   *
   * @throws {LabdeckRequestError} with the server's message on refusal.
   */
  async create(request: ICreateClusterRequest): Promise<ICluster> {
    const cluster = await this._api.create(request);
    if (!this._isDisposed) {
      const others = (this._clusters ?? []).filter(c => c.id !== cluster.id);
      this._clusters = [cluster, ...others];
      this._changed.emit();
      this._schedule();
    }
    return cluster;
  }

  /**
   * Terminate a cluster: shown as TERMINATING at once, resolved when the
   * service has stopped it. Rejects with a readable error.
   */
  async terminate(id: string): Promise<void> {
    this._terminating.add(id);
    this._setState(id, 'TERMINATING');
    this._schedule();
    try {
      await this._api.terminate(id);
    } finally {
      this._terminating.delete(id);
      // A poll that started before the DELETE ended may be stale.
      if (this._pending) {
        await this._pending;
      }
      await this.refresh();
    }
  }

  /**
   * Point new PySpark notebooks at a cluster (writes the sparkmagic
   * config). Rejects with a readable error.
   */
  async connect(id: string): Promise<ISparkConnection> {
    const connection = await this._api.connect(id);
    if (!this._isDisposed) {
      this._connection = connection;
      this._changed.emit();
    }
    return connection;
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
      const list = await this._api.list();
      const fast = list.some(c => isTransitional(c.state));
      const ids = detailsToFetch(list, this._details, fast);
      const details = await Promise.all(
        // A failing detail only means less detail: keep the list.
        ids.map(id => this._api.get(id).catch(() => undefined))
      );
      for (const detail of details) {
        if (detail) {
          this._details.set(detail.id, detail);
        }
      }
      for (const cluster of list) {
        if (cluster.state !== 'RUNNING') {
          this._details.delete(cluster.id);
        }
      }
      this._clusters = list.map(c =>
        // Until the DELETE returns, a cluster being terminated shows so
        // even if this answer predates it.
        this._terminating.has(c.id) && isLive(c.state)
          ? { ...c, state: 'TERMINATING' }
          : withDetail(c, this._details.get(c.id))
      );
      this._error = null;
      this._failures = 0;
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
    this._schedule();
  }

  /** Plan the next poll, unless stopped, hidden or one is in flight. */
  private _schedule(): void {
    this._clearTimer();
    if (
      !this._started ||
      this._isDisposed ||
      this._pending ||
      this._document?.visibilityState === 'hidden'
    ) {
      return;
    }
    this._timer = setTimeout(
      () => {
        this._timer = null;
        void this.refresh();
      },
      pollDelay(this._clusters, this._failures)
    );
  }

  private _setState(id: string, state: ICluster['state']): void {
    if (!this._clusters) {
      return;
    }
    this._clusters = this._clusters.map(c =>
      c.id === id ? { ...c, state } : c
    );
    this._changed.emit();
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _onVisibility = (): void => {
    if (this._document?.visibilityState === 'hidden') {
      this._clearTimer();
    } else {
      void this.refresh();
    }
  };

  private _api: ISparkAPI;
  private _changed = new Signal<this, void>(this);
  private _clusters: ICluster[] | null = null;
  private _connection: ISparkConnection | null = null;
  private _details = new Map<string, ICluster>();
  private _document: Document | null;
  private _error: LabdeckRequestError | null = null;
  private _failures = 0;
  private _isDisposed = false;
  private _pending: Promise<void> | null = null;
  private _started = false;
  private _terminating = new Set<string>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/** Statics of {@link SparkModel}. */
export namespace SparkModel {
  export interface IOptions {
    /** The calls to make; defaults to the real API (tests inject one). */
    api?: ISparkAPI;
    /** Document whose visibility pauses polling; `null` to never pause. */
    document?: Document | null;
  }
}
