import { IDeploymentRef, IDeploymentsAPI } from '../deployments/api';
import {
  DeploymentState,
  ICreateDeploymentRequest,
  IDeployment,
  IInvocationResult,
  IMetricMinute,
  IMetricsAnswer,
  IRecommendationRequest,
  IRecommendationRun,
  IUpdateDeploymentRequest
} from '../deployments/tokens';
import { LabdeckRequestError } from '../request';

/**
 * A deployment as `GET deployments` sends it: alice's `models/<name>`,
 * realtime with one replica, private; `overrides` change what a test needs.
 */
export function makeDeployment(
  name: string,
  state: DeploymentState,
  overrides: Partial<IDeployment> = {}
): IDeployment {
  const base = `/services/labdeck/api/v1/endpoints/alice/${name}`;
  return {
    id: `d-${name}`,
    name,
    user: 'alice',
    state,
    state_reason: null,
    progress: null,
    spec: {
      model_dir: `models/${name}`,
      mode: 'realtime',
      replicas: 1,
      max_concurrency: 20,
      idle_seconds_to_zero: null,
      memory_mb: 2048,
      access: 'private',
      model_format: 'inference'
    },
    replicas_running: state === 'IN_SERVICE' ? 1 : 0,
    endpoint: { invocations: `${base}/invocations`, v2: `${base}/v2` },
    created: new Date().toISOString(),
    started: null,
    ...overrides
  };
}

/** One minute of metrics, at `time` (ISO), with these counts. */
export function minute(
  time: string,
  values: Partial<IMetricMinute> = {}
): IMetricMinute {
  return {
    time,
    invocations: 0,
    errors_4xx: 0,
    errors_5xx: 0,
    model_latency_ms: 0,
    model_latency_ms_max: 0,
    overhead_latency_ms: 0,
    overhead_latency_ms_max: 0,
    cold_starts: 0,
    cold_start_seconds_max: 0,
    replicas: 1,
    ...values
  };
}

/** An in-memory service: the API the models and views call. */
export class FakeDeploymentsAPI implements IDeploymentsAPI {
  deployments: IDeployment[] = [];
  created: ICreateDeploymentRequest[] = [];
  createError: LabdeckRequestError | null = null;
  updates: [string, IUpdateDeploymentRequest][] = [];
  updateError: LabdeckRequestError | null = null;
  removed: string[] = [];
  keysMade: string[] = [];
  /** The key the next key-access create or update answers with. */
  nextKey = 'k-secret-1';
  minutes: IMetricMinute[] = [];
  sinces: number[] = [];
  invocations: [string, string][] = [];
  answer: IInvocationResult = {
    status: 200,
    statusText: 'OK',
    contentType: 'application/json',
    body: '{"sum": 3}',
    latencyMs: 4.25
  };
  recommendations: IRecommendationRequest[] = [];
  run: IRecommendationRun | null = null;
  recommendError: LabdeckRequestError | null = null;

  async list(): Promise<IDeployment[]> {
    return this.deployments.map(d => ({ ...d, spec: { ...d.spec } }));
  }

  async create(request: ICreateDeploymentRequest): Promise<IDeployment> {
    if (this.createError) {
      throw this.createError;
    }
    this.created.push(request);
    const deployment = makeDeployment(request.name, 'CREATING', {
      progress: { step: 'Starting replicas', done: 0, total: 1 }
    });
    deployment.spec = {
      ...deployment.spec,
      model_dir: request.model_dir,
      mode: request.mode,
      replicas: request.replicas,
      access: request.access
    };
    this.deployments = [deployment, ...this.deployments];
    return request.access === 'key'
      ? { ...deployment, key: this.nextKey }
      : { ...deployment };
  }

  async update(
    ref: IDeploymentRef,
    request: IUpdateDeploymentRequest
  ): Promise<IDeployment> {
    if (this.updateError) {
      throw this.updateError;
    }
    this.updates.push([ref.name, request]);
    const deployment = this._find(ref);
    const wasKey = deployment.spec.access === 'key';
    deployment.state = 'UPDATING';
    deployment.spec = { ...deployment.spec, ...request };
    const key = deployment.spec.access === 'key' && !wasKey;
    return key ? { ...deployment, key: this.nextKey } : { ...deployment };
  }

  async remove(ref: IDeploymentRef): Promise<void> {
    this.removed.push(ref.name);
    this.deployments = this.deployments.filter(d => d.name !== ref.name);
  }

  async newKey(ref: IDeploymentRef): Promise<{ key: string }> {
    this.keysMade.push(ref.name);
    return { key: this.nextKey };
  }

  async metrics(ref: IDeploymentRef, since: number): Promise<IMetricsAnswer> {
    this.sinces.push(since);
    return {
      name: ref.name,
      points: this.minutes.filter(m => Date.parse(m.time) / 1000 >= since)
    };
  }

  async invoke(
    ref: IDeploymentRef,
    payload: string
  ): Promise<IInvocationResult> {
    this.invocations.push([ref.name, payload]);
    return { ...this.answer };
  }

  async recommend(
    _ref: IDeploymentRef,
    request: IRecommendationRequest
  ): Promise<IRecommendationRun> {
    if (this.recommendError) {
      throw this.recommendError;
    }
    this.recommendations.push(request);
    this.run = {
      id: 'r-1',
      state: 'RUNNING',
      reason: null,
      progress: { done: 0, total: request.candidates.length },
      results: [],
      recommended: null,
      latency_target_ms: request.latency_target_ms
    };
    return { ...this.run };
  }

  async recommendation(
    _ref: IDeploymentRef
  ): Promise<IRecommendationRun | null> {
    return this.run ? { ...this.run } : null;
  }

  private _find(ref: IDeploymentRef): IDeployment {
    const found = this.deployments.find(
      d => d.user === ref.user && d.name === ref.name
    );
    if (!found) {
      throw new LabdeckRequestError(
        `There is no deployment '${ref.name}'.`,
        404,
        'not_found'
      );
    }
    return found;
  }
}
