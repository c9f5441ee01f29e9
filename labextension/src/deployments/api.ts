import { ServerConnection } from '@jupyterlab/services';

import {
  LabdeckRequestError,
  requestAPI,
  requestAPIResponse
} from '../request';
import {
  ICreateDeploymentRequest,
  IDeployment,
  IInvocationResult,
  IMetricsAnswer,
  IRecommendationRequest,
  IRecommendationRun,
  IUpdateDeploymentRequest
} from './tokens';

/** Which deployment: its owner and name (admins also see others'). */
export interface IDeploymentRef {
  user: string;
  name: string;
}

/**
 * The calls the Deployments section and the deployment tabs make to the
 * labdeck service. An interface so tests can use another implementation.
 */
export interface IDeploymentsAPI {
  /** `GET deployments`: newest first. */
  list(): Promise<IDeployment[]>;
  /** `POST deployments`: the new deployment, CREATING, with its key if any. */
  create(request: ICreateDeploymentRequest): Promise<IDeployment>;
  /** `PUT deployments/<name>`: it, UPDATING, with a new key if any. */
  update(
    ref: IDeploymentRef,
    request: IUpdateDeploymentRequest
  ): Promise<IDeployment>;
  /** `DELETE deployments/<name>`. */
  remove(ref: IDeploymentRef): Promise<void>;
  /** `POST deployments/<name>/key`: a new access key (the old one stops working). */
  newKey(ref: IDeploymentRef): Promise<{ key: string }>;
  /** `GET deployments/<name>/metrics?since=`: the minutes from `since` on. */
  metrics(ref: IDeploymentRef, since: number): Promise<IMetricsAnswer>;
  /** `POST endpoints/<user>/<name>/invocations`: the answer, whatever it is. */
  invoke(ref: IDeploymentRef, payload: string): Promise<IInvocationResult>;
  /** `POST deployments/<name>/recommendations`: the run, started. */
  recommend(
    ref: IDeploymentRef,
    request: IRecommendationRequest
  ): Promise<IRecommendationRun>;
  /** `GET deployments/<name>/recommendations`: the latest run, `null` if none. */
  recommendation(ref: IDeploymentRef): Promise<IRecommendationRun | null>;
}

/** The real API: the labdeck service through the lab server. */
export class DeploymentsAPI implements IDeploymentsAPI {
  constructor(
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  list(): Promise<IDeployment[]> {
    return this._call<IDeployment[]>('deployments');
  }

  create(request: ICreateDeploymentRequest): Promise<IDeployment> {
    return this._call<IDeployment>('deployments', 'POST', request);
  }

  update(
    ref: IDeploymentRef,
    request: IUpdateDeploymentRequest
  ): Promise<IDeployment> {
    return this._call<IDeployment>(path(ref), 'PUT', request);
  }

  remove(ref: IDeploymentRef): Promise<void> {
    return this._call<void>(path(ref), 'DELETE');
  }

  newKey(ref: IDeploymentRef): Promise<{ key: string }> {
    return this._call<{ key: string }>(path(ref, '/key'), 'POST');
  }

  metrics(ref: IDeploymentRef, since: number): Promise<IMetricsAnswer> {
    return this._call<IMetricsAnswer>(
      `${path(ref, '/metrics')}&since=${since}`
    );
  }

  async invoke(
    ref: IDeploymentRef,
    payload: string
  ): Promise<IInvocationResult> {
    const began = performance.now();
    const response = await requestAPIResponse(
      `endpoints/${encodeURIComponent(ref.user)}/${encodeURIComponent(ref.name)}/invocations`,
      {
        method: 'POST',
        body: payload,
        headers: { 'Content-Type': 'application/json' }
      },
      { settings: this._settings, anyStatus: true }
    );
    const body = await response.text();
    return {
      status: response.status,
      statusText: response.statusText,
      contentType: response.headers.get('Content-Type') ?? '',
      body,
      latencyMs: performance.now() - began
    };
  }

  recommend(
    ref: IDeploymentRef,
    request: IRecommendationRequest
  ): Promise<IRecommendationRun> {
    return this._call<IRecommendationRun>(
      path(ref, '/recommendations'),
      'POST',
      request
    );
  }

  async recommendation(
    ref: IDeploymentRef
  ): Promise<IRecommendationRun | null> {
    try {
      return await this._call<IRecommendationRun>(
        path(ref, '/recommendations')
      );
    } catch (reason) {
      // No run yet.
      if (reason instanceof LabdeckRequestError && reason.status === 404) {
        return null;
      }
      throw reason;
    }
  }

  private _call<T>(
    endPoint: string,
    method = 'GET',
    body?: unknown
  ): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(endPoint, init, { settings: this._settings });
  }
}

/**
 * `deployments/<name><tail>?user=<owner>`: management goes by name, the
 * caller's own; the owner is said for admins, and ignored for others.
 */
function path(ref: IDeploymentRef, tail = ''): string {
  return (
    `deployments/${encodeURIComponent(ref.name)}${tail}` +
    `?user=${encodeURIComponent(ref.user)}`
  );
}
