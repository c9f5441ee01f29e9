/**
 * Constants and interfaces of the Spark clusters section.
 *
 * Side-effect free, like `../tokens.ts`: only values and types.
 */

import type { IProgress } from '../format';

/** Lifecycle of a cluster, as the labdeck service reports it. */
export type ClusterState =
  'STARTING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'FAILED';

/** States that count against the user's Spark limits. */
export const LIVE_STATES: readonly ClusterState[] = [
  'STARTING',
  'RUNNING',
  'TERMINATING'
];

/** States the panel follows closely (fast polling). */
export const TRANSITIONAL_STATES: readonly ClusterState[] = [
  'STARTING',
  'TERMINATING'
];

/** Start progress: `Waiting for workers to register`, 1 of 3. */
export type IClusterProgress = IProgress;

/** What a cluster was created with; memory as Spark writes it (`1024m`). */
export interface IClusterSpec {
  name: string;
  workers: number;
  worker_cores: number;
  worker_memory: string;
  idle_timeout_seconds: number;
}

/** A Spark application running on a cluster (a notebook's session). */
export interface ISparkApplication {
  id: string;
  name: string;
  cores: number | null;
}

/** A cluster, from `GET clusters` (and with detail from `GET clusters/<id>`). */
export interface ICluster {
  /** `c-1a2b3c4d`. */
  id: string;
  name: string;
  /** Owner (admins list everyone's clusters). */
  user: string;
  state: ClusterState;
  /** Why it ended or failed, in a sentence; `null` otherwise. */
  state_reason: string | null;
  progress: IClusterProgress | null;
  spec: IClusterSpec;
  created: string | null;
  started: string | null;
  ended: string | null;
  /** When the cluster terminates if nothing runs on it (ISO), or `null`. */
  idle_terminates_at: string | null;
  /**
   * While it runs: when the owner's running clusters will have spent their
   * daily core time and are terminated (ISO), or `null` without a budget.
   */
  deadline?: string | null;
  /** Why it has a deadline: `daily_budget`. */
  deadline_reason?: string | null;
  /** Seconds before `deadline` at which the lab warns (e.g. `[900, 300]`). */
  warn_before_seconds?: number[];
  /** Hub-relative URL of its Livy gateway. */
  livy_url: string;
  /** Hub-relative URL of the Spark master UI (`/services/labdeck/clusters/<id>/ui/`). */
  spark_ui_url: string;
  /** Detail (`GET clusters/<id>` while RUNNING). */
  workers_alive?: number;
  cores?: number;
  cores_used?: number;
  memory_mb?: number;
  applications?: ISparkApplication[];
}

/** Body of `POST clusters`. */
export interface ICreateClusterRequest {
  name: string;
  workers: number;
  worker_cores: number;
  /** `512m`, `1g`... */
  worker_memory: string;
  idle_timeout_seconds: number;
}

/**
 * The user's Spark limits (`me.quota.spark`): totals over their live
 * clusters; `null` (or absent) means unlimited.
 */
export interface ISparkLimits {
  clusters?: number | null;
  workers?: number | null;
  cores?: number | null;
  memory_bytes?: number | null;
}

/**
 * The user's daily Spark core time (`me.resources.spark`): a cluster of 4
 * cores running 1 h uses 4 h of it. Seconds; `null` limit is unlimited.
 */
export interface ICoreTime {
  limit: number | null;
  used: number;
  left: number | null;
  /** When used core time starts to come back (ISO), or `null`. */
  resetsAt: string | null;
}

/** Keys what the budget warnings announced (see `DeadlineNotifier`). */
export const BUDGET_COUNTDOWN_ID = 'spark-budget';

/** Totals over live clusters, or what is left of the limits. */
export interface ISparkAmounts {
  clusters: number;
  workers: number;
  cores: number;
  memory_bytes: number;
}

/** What is left of each limit; `null` where unlimited. */
export type SparkLeft = { [K in keyof ISparkAmounts]: number | null };

/** The cluster Spark notebooks use (`GET`/`POST labdeck/spark/connect`). */
export interface ISparkConnection {
  cluster: { id: string; name: string } | null;
  config_path: string;
  livy_url?: string;
  kernel?: string;
}

/**
 * Namespace of the lab server's own Spark endpoints (`connect`), below
 * the base URL; the clusters themselves are in the labdeck API.
 */
export const SPARK_NAMESPACE = 'labdeck/spark';

/** Kernel that runs Python notebooks on the connected cluster (sparkmagic). */
export const PYSPARK_KERNEL = 'pysparkkernel';

/** Kernel that runs Scala notebooks on the connected cluster (sparkmagic). */
export const SCALA_KERNEL = 'sparkkernel';

/** sparkmagic's kernels, as the banner offers them. */
export const SPARK_KERNELS: ReadonlyArray<{ name: string; label: string }> = [
  { name: PYSPARK_KERNEL, label: 'PySpark' },
  { name: SCALA_KERNEL, label: 'Scala' }
];

/** Poll period while a cluster starts or terminates. */
export const FAST_POLL_MS = 1500;

/** Poll period otherwise. */
export const SLOW_POLL_MS = 30_000;

/** Ended clusters shown under the live ones (newest first). */
export const MAX_ENDED_SHOWN = 5;

/** Idle timeouts the server accepts, in minutes (60 s to 7 days). */
export const MIN_IDLE_MINUTES = 1;
export const MAX_IDLE_MINUTES = 7 * 24 * 60;
export const DEFAULT_IDLE_MINUTES = 60;

/** Memory per worker offered by the form (the server's minimum is 512m). */
export const WORKER_MEMORY_CHOICES: readonly string[] = [
  '512m',
  '1g',
  '2g',
  '3g',
  '4g',
  '6g',
  '8g',
  '12g',
  '16g'
];

export const DEFAULT_WORKER_MEMORY = '1g';
