/** A training job's state, as the labdeck service reports it. */
export type JobState =
  'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'STOPPING' | 'STOPPED';

/** A metric read from the job's log: its name and the regex capturing it. */
export interface IMetricDefinition {
  name: string;
  regex: string;
}

/** A training job (`GET jobs`). Times are ISO 8601, `null` until they happen. */
export interface IJob {
  id: string;
  name: string;
  user: string;
  state: JobState;
  /** Why it is in its state (failure, stop, time limit), `null` if nothing to say. */
  state_reason: string | null;
  spec: {
    script: string;
    command?: string | null;
    args?: string[];
    parameters?: Record<string, unknown>;
    profile: string;
    max_runtime_seconds: number | null;
    metric_definitions: IMetricDefinition[];
    working_dir?: string | null;
    env?: Record<string, string>;
  };
  created: string;
  started: string | null;
  ended: string | null;
  runtime_deadline: string | null;
  output_dir: string | null;
}

/** Body of `POST jobs`. */
export interface ISubmitJobRequest {
  name: string;
  /** Path of the script, relative to the home folder. */
  script: string;
  profile: string;
  max_runtime_seconds: number;
  metric_definitions: IMetricDefinition[];
}

/** A chunk of a job's log (`GET jobs/<id>/logs?offset=`). */
export interface ILogChunk {
  offset: number;
  next_offset: number;
  size: number;
  text: string;
}

/** Where a metric point comes from. */
export type MetricSource = 'log' | 'script' | 'system';

/** One metric point: when, from where, at which step, the values. */
export interface IMetricPoint {
  /** Epoch seconds. */
  t: number;
  source: MetricSource;
  step: number | null;
  values: Record<string, number>;
}

/** Answer of `GET jobs/<id>/metrics?since=`. */
export interface IMetricsPage {
  points: IMetricPoint[];
  /** Cursor (a byte offset) of the next read. */
  next_since: number;
}

/** States in which a job still changes by itself. */
export const LIVE_STATES: readonly JobState[] = [
  'PENDING',
  'RUNNING',
  'STOPPING'
];

/** Polling of the job list: slow when all jobs are done, fast otherwise. */
export const SLOW_POLL_MS = 30_000;
export const FAST_POLL_MS = 3_000;
/** Polling of an opened job's log and metrics while it is live. */
export const FOLLOW_POLL_MS = 2_000;
export const MAX_POLL_BACKOFF_MS = 300_000;

/** Most log characters kept in the browser for one job (the tail). */
export const MAX_LOG_CHARS = 200_000;
