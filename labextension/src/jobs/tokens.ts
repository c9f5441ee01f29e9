/** A training job's state, as the labdeck service reports it. */
export type JobState =
  'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'STOPPING' | 'STOPPED';

/** A metric read from the job's log: its name and the regex capturing it. */
export interface IMetricDefinition {
  name: string;
  regex: string;
}

/**
 * What runs a job: one submitted as a job, or a Livy batch (spark-submit on
 * one of the user's Spark clusters), which labdeck runs as a job.
 */
export type JobType = 'job' | 'spark-batch';

/** Where a Livy batch runs: its cluster, its Livy id, the file it submits. */
export interface ISparkBatch {
  cluster_id: string;
  batch_id: number;
  file: string;
}

/** A training job (`GET jobs`). Times are ISO 8601, `null` until they happen. */
export interface IJob {
  id: string;
  name: string;
  user: string;
  state: JobState;
  /** `job` when absent (a service older than Livy batches). */
  type?: JobType;
  /** The Livy batch it runs, `null` for a job. */
  spark_batch?: ISparkBatch | null;
  /** Why it is in its state (failure, stop, time limit), `null` if nothing to say. */
  state_reason: string | null;
  spec: {
    /** A `.py` or `.ipynb` path relative to the home, `null` for a command. */
    script: string | null;
    /** The argv of a job that runs a command instead of a script. */
    command?: string[] | null;
    args?: string[];
    /** A notebook's parameters. */
    parameters?: Record<string, unknown>;
    profile: string;
    max_runtime_seconds: number | null;
    metric_definitions: IMetricDefinition[];
    /** Absolute folder the job runs in (inside the home). */
    working_dir?: string | null;
    /** Names of the environment variables it was given (never their values). */
    env?: string[];
  };
  created: string;
  started: string | null;
  ended: string | null;
  runtime_deadline: string | null;
  /** When the owner's daily budget stops it, if it does before it ends. */
  deadline?: string | null;
  /** Why it stops at `deadline`, e.g. `daily_budget`. */
  deadline_reason?: string | null;
  /** Ids of the GPUs it holds (none on a CPU runtime). */
  gpus?: string[];
  /** Its folder, e.g. `~/labdeck/jobs/<id>`. */
  output_dir: string | null;
}

/** Body of `POST jobs`: a `script` or a `command`. */
export interface ISubmitJobRequest {
  name: string;
  /** Path of the script, relative to the home folder. */
  script?: string;
  /** An argv to run instead of a script. */
  command?: string[];
  args?: string[];
  /** A notebook's parameters, injected after its `parameters` cell. */
  parameters?: Record<string, unknown>;
  working_dir?: string;
  env?: Record<string, string>;
  profile: string;
  /** Without it, the service's default limit. */
  max_runtime_seconds?: number;
  metric_definitions: IMetricDefinition[];
}

/** A script to put in the submit form (from the file browser's menu). */
export interface IJobDraft {
  /** Path relative to the home folder. */
  script: string;
  /** Increases with each draft, so the same path can be proposed again. */
  serial: number;
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

/** Most log characters kept in the browser for one job (the tail). */
export const MAX_LOG_CHARS = 200_000;

/** Extensions of the files that run as jobs: a script or a notebook. */
export const RUNNABLE_EXTENSIONS: readonly string[] = ['.py', '.ipynb'];

/** Name of a notebook job's executed copy, in the job's folder. */
export const EXECUTED_NOTEBOOK = 'executed.ipynb';

/** Commands of the training jobs plugin. */
export namespace JobCommandIDs {
  /** Propose the file selected in the file browser in the submit form. */
  export const runFile = 'labdeck:run-as-job';
  /** Open a job (`{ id }`) in the main area, or show its tab. */
  export const open = 'labdeck:open-job';
}

/** Namespace of the job views in the layout restorer; also their id prefix. */
export const JOB_VIEW_NAMESPACE = 'labdeck-job';
