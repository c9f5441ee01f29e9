import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';
import { IJob, ILogChunk, IMetricsPage, ISubmitJobRequest } from './tokens';

/**
 * The calls the Jobs section makes to the labdeck service. An interface so
 * tests can use another implementation.
 */
export interface IJobsAPI {
  /** `GET jobs`: newest first. */
  list(): Promise<IJob[]>;
  /** `POST jobs`: the new job, PENDING. */
  submit(request: ISubmitJobRequest): Promise<IJob>;
  /** `POST jobs/<id>/stop`: the job, STOPPING or ended. */
  stop(id: string): Promise<IJob>;
  /** `GET jobs/<id>/logs?offset=`: the log from `offset` on. */
  logs(id: string, offset: number): Promise<ILogChunk>;
  /** `GET jobs/<id>/metrics?since=`: the points after the cursor `since`. */
  metrics(id: string, since: number): Promise<IMetricsPage>;
}

/** The real API: the labdeck service through the lab server. */
export class JobsAPI implements IJobsAPI {
  constructor(
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  list(): Promise<IJob[]> {
    return this._get<IJob[]>('jobs');
  }

  submit(request: ISubmitJobRequest): Promise<IJob> {
    return requestAPI<IJob>(
      'jobs',
      { method: 'POST', body: JSON.stringify(request) },
      { settings: this._settings }
    );
  }

  stop(id: string): Promise<IJob> {
    return requestAPI<IJob>(
      `jobs/${encodeURIComponent(id)}/stop`,
      { method: 'POST' },
      { settings: this._settings }
    );
  }

  logs(id: string, offset: number): Promise<ILogChunk> {
    return this._get<ILogChunk>(
      `jobs/${encodeURIComponent(id)}/logs?offset=${offset}`
    );
  }

  metrics(id: string, since: number): Promise<IMetricsPage> {
    return this._get<IMetricsPage>(
      `jobs/${encodeURIComponent(id)}/metrics?since=${since}`
    );
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, { settings: this._settings });
  }
}
