import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { LabdeckRequestError, requestAPI } from '../request';
import {
  CONNECT_PATH,
  ICluster,
  ICreateClusterRequest,
  ISparkConnection
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
  /** `GET labdeck/spark/connect`: the cluster PySpark notebooks use. */
  connection(): Promise<ISparkConnection>;
  /** `POST labdeck/spark/connect`: point PySpark notebooks at a cluster. */
  connect(clusterId: string): Promise<ISparkConnection>;
}

/** The real API: the labdeck service through the lab server. */
export class SparkAPI implements ISparkAPI {
  constructor(
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  list(): Promise<ICluster[]> {
    return requestAPI<ICluster[]>('clusters', {}, this._settings);
  }

  get(id: string): Promise<ICluster> {
    return requestAPI<ICluster>(
      `clusters/${encodeURIComponent(id)}`,
      {},
      this._settings
    );
  }

  create(request: ICreateClusterRequest): Promise<ICluster> {
    return requestAPI<ICluster>(
      'clusters',
      { method: 'POST', body: JSON.stringify(request) },
      this._settings
    );
  }

  async terminate(id: string): Promise<void> {
    await requestAPI<void>(
      `clusters/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      this._settings
    );
  }

  connection(): Promise<ISparkConnection> {
    return this._connect({ method: 'GET' });
  }

  connect(clusterId: string): Promise<ISparkConnection> {
    return this._connect({
      method: 'POST',
      body: JSON.stringify({ cluster_id: clusterId })
    });
  }

  /**
   * The lab server's own endpoint (not the service proxy), with the same
   * error handling as `requestAPI`: JSON `message`s become the error text.
   */
  private async _connect(init: RequestInit): Promise<ISparkConnection> {
    const url = URLExt.join(this._settings.baseUrl, CONNECT_PATH);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this._settings);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new LabdeckRequestError(
        `Cannot reach the lab server (${reason}). Check your connection and try again.`,
        0,
        'network_error'
      );
    }
    const text = await response.text();
    let data: unknown = undefined;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const body = (data ?? {}) as { error?: unknown; message?: unknown };
      throw new LabdeckRequestError(
        typeof body.message === 'string' && body.message
          ? body.message
          : `The lab server answered ${response.status}.`,
        response.status,
        typeof body.error === 'string' ? body.error : `http_${response.status}`
      );
    }
    if (typeof data !== 'object' || data === null) {
      throw new LabdeckRequestError(
        'The lab server sent an answer that is not JSON.',
        response.status,
        'invalid_response'
      );
    }
    return data as ISparkConnection;
  }
}
