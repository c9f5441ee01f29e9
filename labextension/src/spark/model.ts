import { PolledModel } from '../polling';
import { ISparkAPI, SparkAPI } from './api';
import { detailsToFetch, isLive, isTransitional, withDetail } from './logic';
import {
  FAST_POLL_MS,
  ICluster,
  ICreateClusterRequest,
  ISparkConnection,
  SLOW_POLL_MS
} from './tokens';

/**
 * The user's Spark clusters and the cluster Spark notebooks use.
 *
 * Polls `GET clusters` every ~1.5 s while a cluster starts or terminates
 * and every 30 s otherwise; running clusters get their detail from
 * `GET clusters/<id>`.
 */
export class SparkModel extends PolledModel<ICluster[]> {
  constructor(options: SparkModel.IOptions = {}) {
    super({
      interval: SLOW_POLL_MS,
      fastInterval: FAST_POLL_MS,
      name: 'labdeck:spark-clusters'
    });
    this._api = options.api ?? new SparkAPI();
  }

  /** Clusters, newest first (with detail for running ones); `null` before the first answer. */
  get clusters(): ICluster[] | null {
    return this.data;
  }

  /** The cluster Spark notebooks use, `null` if unknown or none. */
  get connection(): ISparkConnection | null {
    return this._connection;
  }

  /** Start polling (and read the connection once). Idempotent. */
  start(): void {
    if (!this.isStarted && !this.isDisposed) {
      void this.refreshConnection();
    }
    super.start();
  }

  /** Read which cluster Spark notebooks use (never rejects). */
  async refreshConnection(): Promise<void> {
    try {
      this._setConnection(await this._api.connection());
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
    const others = (this.clusters ?? []).filter(c => c.id !== cluster.id);
    this.setData([cluster, ...others]);
    return cluster;
  }

  /**
   * Terminate a cluster: shown as TERMINATING at once, resolved when the
   * service has stopped it. Rejects with a readable error.
   */
  async terminate(id: string): Promise<void> {
    this._terminating.add(id);
    if (this.clusters) {
      this.setData(
        this.clusters.map(c =>
          c.id === id ? { ...c, state: 'TERMINATING' } : c
        )
      );
    }
    try {
      await this._api.terminate(id);
    } finally {
      this._terminating.delete(id);
      await this.refreshAfterChange();
    }
  }

  /**
   * Point new Spark notebooks at a cluster (writes the sparkmagic
   * config). Rejects with a readable error.
   */
  async connect(id: string): Promise<ISparkConnection> {
    const connection = await this._api.connect(id);
    this._setConnection(connection);
    return connection;
  }

  protected isTransitional(clusters: ICluster[]): boolean {
    return clusters.some(c => isTransitional(c.state));
  }

  protected async load(): Promise<ICluster[]> {
    const list = await this._api.list();
    const ids = detailsToFetch(list, this._details, this.isTransitional(list));
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
    return list.map(c =>
      // Until the DELETE returns, a cluster being terminated shows so
      // even if this answer predates it.
      this._terminating.has(c.id) && isLive(c.state)
        ? { ...c, state: 'TERMINATING' }
        : withDetail(c, this._details.get(c.id))
    );
  }

  private _setConnection(connection: ISparkConnection): void {
    this._connection = connection;
    this.emitChanged();
  }

  private _api: ISparkAPI;
  private _connection: ISparkConnection | null = null;
  private _details = new Map<string, ICluster>();
  private _terminating = new Set<string>();
}

/** Statics of {@link SparkModel}. */
export namespace SparkModel {
  export interface IOptions {
    /** The calls to make; defaults to the real API (tests inject one). */
    api?: ISparkAPI;
  }
}
