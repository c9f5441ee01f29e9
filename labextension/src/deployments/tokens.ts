/**
 * Constants and interfaces of the Deployments section and the deployment
 * tabs. Side-effect free, like `../tokens.ts`: only values and types.
 */

import type { IProgress } from '../format';

/**
 * A deployment's state, as the labdeck service reports it (SageMaker's
 * endpoint states). STOPPED: its owner's daily replica time ran out.
 */
export type DeploymentState =
  'CREATING' | 'IN_SERVICE' | 'UPDATING' | 'DELETING' | 'STOPPED' | 'FAILED';

/** Always-on replicas, or replicas that scale to zero when idle. */
export type DeploymentMode = 'realtime' | 'serverless';

/** Who may call the endpoint: its owner, any hub user, or a key holder. */
export type DeploymentAccess = 'private' | 'hub' | 'key';

/** How a deployment serves (`spec` of `GET deployments`). */
export interface IDeploymentSpec {
  /** Its model folder, relative to the owner's home. */
  model_dir: string;
  mode: DeploymentMode;
  replicas: number;
  max_concurrency: number;
  /** Serverless only: idle seconds before it scales to zero. */
  idle_seconds_to_zero: number | null;
  memory_mb: number;
  access: DeploymentAccess;
  /** `inference` (inference.py) or `sklearn` (model.joblib). */
  model_format: string;
}

/** A deployment (`GET deployments`). Times are ISO 8601. */
export interface IDeployment {
  id: string;
  name: string;
  user: string;
  state: DeploymentState;
  /** Why it failed (the model's own error), or why its last update did not apply. */
  state_reason: string | null;
  /** While it is created: the step it is at. */
  progress: IProgress | null;
  spec: IDeploymentSpec;
  replicas_running: number;
  /** Where to call it: absolute paths on the hub's host. */
  endpoint: { invocations: string; v2: string };
  created: string | null;
  started: string | null;
  /** Its access key: only in the answer that made it, shown once. */
  key?: string;
}

/** Body of `POST deployments`. */
export interface ICreateDeploymentRequest {
  name: string;
  model_dir: string;
  mode: DeploymentMode;
  replicas: number;
  max_concurrency: number;
  /** Serverless only. */
  idle_seconds_to_zero?: number;
  memory_mb: number;
  access: DeploymentAccess;
}

/** Body of `PUT deployments/<name>`: only what changes. */
export interface IUpdateDeploymentRequest {
  model_dir?: string;
  replicas?: number;
  max_concurrency?: number;
  idle_seconds_to_zero?: number;
  access?: DeploymentAccess;
}

/** One minute of an endpoint's traffic (`GET deployments/<name>/metrics`). */
export interface IMetricMinute {
  /** Start of the minute, ISO 8601. */
  time: string;
  invocations: number;
  errors_4xx: number;
  errors_5xx: number;
  /** Mean time in the model server, ms. */
  model_latency_ms: number;
  model_latency_ms_max: number;
  /** Mean time the gateway added, ms. */
  overhead_latency_ms: number;
  overhead_latency_ms_max: number;
  cold_starts: number;
  cold_start_seconds_max: number;
  /** Most replicas running in that minute. */
  replicas: number;
}

/** Answer of `GET deployments/<name>/metrics?since=`. */
export interface IMetricsAnswer {
  name: string;
  points: IMetricMinute[];
}

/** What a call of the endpoint answered, as the test form shows it. */
export interface IInvocationResult {
  status: number;
  /** The reason phrase, e.g. `OK`, `Too Many Requests`. */
  statusText: string;
  contentType: string;
  body: string;
  /** Round trip from the browser, ms. */
  latencyMs: number;
}

/** A configuration the recommender load-tests. */
export interface IRecommendationCandidate {
  replicas: number;
  workers?: number;
}

/** Body of `POST deployments/<name>/recommendations`. */
export interface IRecommendationRequest {
  /** What each load-test request sends. */
  payload: unknown;
  duration_seconds: number;
  candidates: IRecommendationCandidate[];
  latency_target_ms: number;
}

/** What one candidate did under load. */
export interface IRecommendationResult {
  replicas: number;
  workers: number;
  /** Requests sent in the load test. */
  requests?: number;
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  memory_bytes: number;
}

/** State of a recommender run. */
export type RecommendationState = 'RUNNING' | 'COMPLETED' | 'FAILED';

/** A recommender run (the latest: `GET deployments/<name>/recommendations`). */
export interface IRecommendationRun {
  id: string;
  state: RecommendationState;
  reason: string | null;
  progress: { done: number; total: number } | null;
  results: IRecommendationResult[];
  /** The cheapest result meeting the target, `null` when none does (yet). */
  recommended: IRecommendationResult | null;
  /** `null`: no target (the most throughput per model server was asked). */
  latency_target_ms: number | null;
}

/** A model folder to put in the deploy form (file browser, a finished job). */
export interface IDeploymentDraft {
  /** Path relative to the home folder. */
  modelDir: string;
  /** Increases with each draft, so the same folder can be proposed again. */
  serial: number;
}

/** States in which a deployment changes by itself (followed closely). */
export const TRANSITIONAL_STATES: readonly DeploymentState[] = [
  'CREATING',
  'UPDATING',
  'DELETING'
];

/** Polling of the deployment list: fast while one is changing. */
export const SLOW_POLL_MS = 30_000;
export const FAST_POLL_MS = 3_000;
/** Polling of an opened deployment's metrics. */
export const METRICS_POLL_MS = 5_000;
/** Polling of a recommender run: fast while it runs. */
export const RECOMMENDATION_POLL_MS = 2_000;

/** What the test form proposes to send. */
export const SAMPLE_PAYLOAD = '{"instances": [[1, 2]]}';

/** Defaults of the deploy form (the service's own defaults). */
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_MAX_CONCURRENCY = 20;
export const DEFAULT_MEMORY_MB = 2048;
export const DEFAULT_IDLE_SECONDS = 600;

/** What the service accepts (deployments/spec.py). */
export const MAX_CONCURRENCY = 200;
export const MIN_MEMORY_MB = 128;
export const MAX_MEMORY_MB = 6144;
export const MIN_IDLE_SECONDS = 10;
export const MAX_IDLE_SECONDS = 7 * 24 * 3600;
/** Names are a path segment of the endpoint's URL. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const MAX_NAME_LENGTH = 63;

/** What the recommender runs: each candidate for this long. */
export const RECOMMENDER_DURATION_SECONDS = 10;
export const RECOMMENDER_CANDIDATES: readonly IRecommendationCandidate[] = [
  { replicas: 1 },
  { replicas: 2 }
];
export const DEFAULT_LATENCY_TARGET_MS = '100';

/** Commands of the deployments plugin. */
export namespace DeploymentCommandIDs {
  /** Propose a folder (`{ path }`, or the file browser's selection) in the deploy form. */
  export const deployFolder = 'labdeck:deploy-folder';
  /** Open a deployment (`{ user, name }`) in the main area, or show its tab. */
  export const open = 'labdeck:open-deployment';
}

/** Namespace of the deployment tabs in the layout restorer; also their id prefix. */
export const DEPLOYMENT_VIEW_NAMESPACE = 'labdeck-deployment';
