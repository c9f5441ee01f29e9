import { ServerConnection } from '@jupyterlab/services';

import { IRequestOptions, requestAPI } from '../request';
import {
  ICluster,
  ICreateClusterRequest,
  ISparkConnection,
  SPARK_NAMESPACE
} from './tokens';

/**
 * The calls the Spark section makes. An interface so tests (and the
 * panel's model) can use another implementation.
 */
export interface ISparkAPI {
  /** `GET clusters`: newest first. */
  list(): Promise<ICluster[]>;
  /** `GET clusters/<id>`, with detail while it runs. */
  get(id: string): Promise<ICluster>;
  /** `POST clusters`: the new cluster, STARTING. */
  create(request: ICreateClusterRequest): Promise<ICluster>;
  /** `DELETE clusters/<id>`: resolves once it is terminated. */
  terminate(id: string): Promise<void>;
  /** `GET labdeck/spark/connect`: the cluster Spark notebooks use. */
  connection(): Promise<ISparkConnection>;
  /** `POST labdeck/spark/connect`: point Spark notebooks at a cluster. */
  connect(clusterId: string): Promise<ISparkConnection>;
}

/** The real API: the labdeck service through the lab server. */
export class SparkAPI implements ISparkAPI {
  constructor(
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  list(): Promise<ICluster[]> {
    return requestAPI<ICluster[]>('clusters', {}, this._service);
  }

  get(id: string): Promise<ICluster> {
    return requestAPI<ICluster>(
      `clusters/${encodeURIComponent(id)}`,
      {},
      this._service
    );
  }

  create(request: ICreateClusterRequest): Promise<ICluster> {
    return requestAPI<ICluster>(
      'clusters',
      { method: 'POST', body: JSON.stringify(request) },
      this._service
    );
  }

  async terminate(id: string): Promise<void> {
    await requestAPI<void>(
      `clusters/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      this._service
    );
  }

  connection(): Promise<ISparkConnection> {
    return requestAPI<ISparkConnection>('connect', {}, this._labServer);
  }

  connect(clusterId: string): Promise<ISparkConnection> {
    return requestAPI<ISparkConnection>(
      'connect',
      { method: 'POST', body: JSON.stringify({ cluster_id: clusterId }) },
      this._labServer
    );
  }

  /** Clusters live in the labdeck service (`labdeck/api/v1`). */
  private get _service(): IRequestOptions {
    return { settings: this._settings };
  }

  /**
   * The connection is the lab server's own (it writes the sparkmagic
   * config in the user's home), below {@link SPARK_NAMESPACE}.
   */
  private get _labServer(): IRequestOptions {
    return { namespace: SPARK_NAMESPACE, settings: this._settings };
  }
}
