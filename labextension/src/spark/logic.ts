/**
 * Pure logic of the Spark clusters section: limits left, form checks,
 * polling decisions and wording. No side effects, no JupyterLab imports
 * (only types), so every rule is unit-tested on its own.
 */

import { formatClockTime, humanDuration } from '../format';
import type { ICountdown } from '../notifier';
import type { IMe } from '../tokens';
import {
  BUDGET_COUNTDOWN_ID,
  ClusterState,
  DEFAULT_IDLE_MINUTES,
  DEFAULT_WORKER_MEMORY,
  ICluster,
  IClusterSpec,
  ICoreTime,
  ICreateClusterRequest,
  ISparkAmounts,
  ISparkLimits,
  LIVE_STATES,
  MAX_ENDED_SHOWN,
  MAX_IDLE_MINUTES,
  MIN_IDLE_MINUTES,
  SparkLeft,
  TRANSITIONAL_STATES,
  WORKER_MEMORY_CHOICES
} from './tokens';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const UNITS: { [unit: string]: number } = {
  '': 1,
  k: 2 ** 10,
  m: MIB,
  g: GIB,
  t: 2 ** 40
};

/** The server's smallest worker (512m). */
export const MIN_WORKER_MEMORY_BYTES = 512 * MIB;

/** Cluster names the server accepts. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$/;

/**
 * Memory as Spark and the service write it (`512m`, `2g`, `1536MiB`) or a
 * number of bytes, in bytes; `null` when unreadable. Same rule as the
 * server's `parse_memory`.
 */
export function parseMemory(
  value: string | number | null | undefined
): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  }
  if (typeof value !== 'string') {
    return null;
  }
  const match = /^(\d+)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!match) {
    return null;
  }
  return Number(match[1]) * UNITS[match[2].toLowerCase()];
}

/** Memory for people: `512 MiB`, `1 GiB`, `1.5 GiB`. */
export function formatMemory(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return '0 MiB';
  }
  if (bytes >= GIB) {
    const gib = bytes / GIB;
    return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
  }
  return `${Math.round(bytes / MIB)} MiB`;
}

/** `1 core`, `2 cores`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Whether a cluster in this state counts against the limits. */
export function isLive(state: ClusterState): boolean {
  return LIVE_STATES.includes(state);
}

/** Whether a cluster in this state is about to change (start or stop). */
export function isTransitional(state: ClusterState): boolean {
  return TRANSITIONAL_STATES.includes(state);
}

/**
 * The Spark limits in `me.quota`, `null` when the quota has none (no
 * `spark` entry means unlimited).
 */
export function sparkLimits(quota: unknown): ISparkLimits | null {
  if (typeof quota !== 'object' || quota === null) {
    return null;
  }
  const spark = (quota as { [key: string]: unknown }).spark;
  return typeof spark === 'object' && spark !== null
    ? (spark as ISparkLimits)
    : null;
}

/** Resources a cluster holds, from its spec. */
export function clusterAmounts(spec: IClusterSpec): ISparkAmounts {
  const memory = parseMemory(spec.worker_memory) ?? 0;
  return {
    clusters: 1,
    workers: spec.workers,
    cores: spec.workers * spec.worker_cores,
    memory_bytes: spec.workers * memory
  };
}

/**
 * Totals over the live clusters of `user` (all clusters when `user` is
 * not given): what the server checks the limits against.
 */
export function usedAmounts(
  clusters: readonly ICluster[],
  user?: string | null
): ISparkAmounts {
  const used: ISparkAmounts = {
    clusters: 0,
    workers: 0,
    cores: 0,
    memory_bytes: 0
  };
  for (const cluster of clusters) {
    if (!isLive(cluster.state) || (user && cluster.user !== user)) {
      continue;
    }
    const amounts = clusterAmounts(cluster.spec);
    used.clusters += amounts.clusters;
    used.workers += amounts.workers;
    used.cores += amounts.cores;
    used.memory_bytes += amounts.memory_bytes;
  }
  return used;
}

const AMOUNT_KEYS: (keyof ISparkAmounts)[] = [
  'clusters',
  'workers',
  'cores',
  'memory_bytes'
];

/** What is left of each limit (never below 0); `null` where unlimited. */
export function limitsLeft(
  limits: ISparkLimits | null | undefined,
  used: ISparkAmounts
): SparkLeft {
  const left = {} as SparkLeft;
  for (const key of AMOUNT_KEYS) {
    const limit = limits?.[key];
    left[key] =
      typeof limit === 'number' ? Math.max(0, limit - used[key]) : null;
  }
  return left;
}

/**
 * The remaining limits in words, limited ones only:
 * `1 of 2 clusters · 2 of 4 workers · 2 of 4 cores · 6 GiB of 8 GiB memory`;
 * `null` when nothing is limited.
 */
export function describeLeft(
  limits: ISparkLimits | null | undefined,
  left: SparkLeft
): string | null {
  const parts: string[] = [];
  for (const key of AMOUNT_KEYS) {
    const limit = limits?.[key];
    const rest = left[key];
    if (typeof limit !== 'number' || rest === null) {
      continue;
    }
    if (key === 'memory_bytes') {
      parts.push(`${formatMemory(rest)} of ${formatMemory(limit)} memory`);
    } else {
      parts.push(`${rest} of ${limit} ${key}`);
    }
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** What the create form holds (text of its inputs). */
export interface ICreateForm {
  name: string;
  workers: string;
  cores: string;
  memory: string;
  idleMinutes: string;
}

/** A fresh form, named after the clusters that exist. */
export function defaultForm(clusters: readonly ICluster[] = []): ICreateForm {
  return {
    name: suggestName(clusters),
    workers: '1',
    cores: '1',
    memory: DEFAULT_WORKER_MEMORY,
    idleMinutes: String(DEFAULT_IDLE_MINUTES)
  };
}

/** `spark-1`, or the next number not used by a live cluster. */
export function suggestName(clusters: readonly ICluster[]): string {
  const taken = new Set(clusters.filter(c => isLive(c.state)).map(c => c.name));
  let n = 1;
  while (taken.has(`spark-${n}`)) {
    n += 1;
  }
  return `spark-${n}`;
}

/** A whole number typed in a field, or `null`. */
export function wholeNumber(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) {
    return null;
  }
  return Number(text);
}

/** Upper bounds the form puts on its inputs; `null` where unlimited. */
export interface IFormBounds {
  /** Most workers possible with the chosen cores and memory per worker. */
  maxWorkers: number | null;
  /** Most cores per worker possible with the chosen number of workers. */
  maxCores: number | null;
  /** Memory choices and whether each fits the chosen number of workers. */
  memory: { value: string; label: string; disabled: boolean }[];
  /** Whether no cluster can start at all (the cluster limit is used up). */
  blocked: boolean;
}

/** Division rounded down, where `null` (unlimited) stays `null`. */
function share(left: number | null, per: number): number | null {
  return left === null ? null : Math.floor(left / Math.max(1, per));
}

/** Smallest of the bounds, ignoring unlimited (`null`) ones. */
function minBound(...bounds: (number | null)[]): number | null {
  const real = bounds.filter((b): b is number => b !== null);
  return real.length > 0 ? Math.min(...real) : null;
}

/**
 * Bounds of the create form's inputs given what is left and what is
 * already chosen: a value above its bound cannot start.
 */
export function formBounds(form: ICreateForm, left: SparkLeft): IFormBounds {
  const workers = Math.max(1, wholeNumber(form.workers) ?? 1);
  const cores = Math.max(1, wholeNumber(form.cores) ?? 1);
  const memory = parseMemory(form.memory) ?? MIN_WORKER_MEMORY_BYTES;
  const perWorkerMemory = share(left.memory_bytes, workers);
  return {
    maxWorkers: minBound(
      left.workers,
      share(left.cores, cores),
      left.memory_bytes === null ? null : Math.floor(left.memory_bytes / memory)
    ),
    maxCores: share(left.cores, workers),
    memory: WORKER_MEMORY_CHOICES.map(value => {
      const bytes = parseMemory(value) ?? 0;
      return {
        value,
        label: formatMemory(bytes),
        disabled: perWorkerMemory !== null && bytes > perWorkerMemory
      };
    }),
    blocked: left.clusters === 0
  };
}

/** Outcome of checking the form: a request to send, or what is wrong. */
export type FormCheck =
  | { ok: true; request: ICreateClusterRequest }
  | { ok: false; problems: string[] };

/**
 * Check the form against the server's rules and the limits left, so
 * impossible requests are not sent; the server still has the last word.
 */
export function checkForm(form: ICreateForm, left: SparkLeft): FormCheck {
  const problems: string[] = [];
  const name = form.name.trim();
  if (!NAME_PATTERN.test(name)) {
    problems.push(
      'Name: 1 to 63 letters, digits, spaces, dots, dashes or underscores.'
    );
  }
  const workers = wholeNumber(form.workers);
  const cores = wholeNumber(form.cores);
  const memory = parseMemory(form.memory);
  const idle = wholeNumber(form.idleMinutes);
  if (workers === null || workers < 1) {
    problems.push('Workers: a whole number, at least 1.');
  }
  if (cores === null || cores < 1) {
    problems.push('Cores per worker: a whole number, at least 1.');
  }
  if (memory === null || memory < MIN_WORKER_MEMORY_BYTES) {
    problems.push('Memory per worker: at least 512 MiB.');
  }
  if (idle === null || idle < MIN_IDLE_MINUTES || idle > MAX_IDLE_MINUTES) {
    problems.push(
      `Idle timeout: ${MIN_IDLE_MINUTES} to ${MAX_IDLE_MINUTES} minutes (7 days).`
    );
  }
  if (left.clusters === 0) {
    problems.push(
      'You already have as many clusters as you may: terminate one first.'
    );
  }
  if (workers !== null && cores !== null && memory !== null) {
    const asked: ISparkAmounts = {
      clusters: 1,
      workers,
      cores: workers * cores,
      memory_bytes: workers * memory
    };
    for (const key of ['workers', 'cores', 'memory_bytes'] as const) {
      const rest = left[key];
      if (rest !== null && asked[key] > rest) {
        problems.push(overLimitText(key, asked[key], rest));
      }
    }
  }
  if (problems.length > 0) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    request: {
      name,
      workers: workers!,
      worker_cores: cores!,
      worker_memory: form.memory.trim(),
      idle_timeout_seconds: idle! * 60
    }
  };
}

function overLimitText(
  key: 'workers' | 'cores' | 'memory_bytes',
  asked: number,
  left: number
): string {
  if (key === 'memory_bytes') {
    return `This cluster needs ${formatMemory(asked)} of memory; ${formatMemory(left)} is left.`;
  }
  return `This cluster needs ${plural(asked, key.slice(0, -1))}; ${left} left.`;
}

/**
 * Which clusters need `GET clusters/<id>` for their detail (workers
 * alive, cores used, applications), which only RUNNING clusters have:
 * all running ones on a slow poll, only those without detail yet (just
 * started) on a fast one.
 */
export function detailsToFetch(
  clusters: readonly ICluster[],
  previous: ReadonlyMap<string, ICluster>,
  fast: boolean
): string[] {
  return clusters
    .filter(c => c.state === 'RUNNING')
    .filter(c => !fast || previous.get(c.id)?.workers_alive === undefined)
    .map(c => c.id);
}

/**
 * A listed cluster with the detail known from an earlier `GET
 * clusters/<id>`, while it still runs (detail of a stopped cluster is
 * stale).
 */
export function withDetail(
  cluster: ICluster,
  detail: ICluster | undefined
): ICluster {
  if (!detail || cluster.state !== 'RUNNING' || detail.state !== 'RUNNING') {
    return cluster;
  }
  return {
    ...cluster,
    workers_alive: detail.workers_alive,
    cores: detail.cores,
    cores_used: detail.cores_used,
    memory_mb: detail.memory_mb,
    applications: detail.applications
  };
}

/**
 * Clusters to show: every live one, then the newest ended ones (at most
 * `maxEnded`); the list comes newest first. Also how many are left out.
 */
export function visibleClusters(
  clusters: readonly ICluster[],
  maxEnded = MAX_ENDED_SHOWN
): { shown: ICluster[]; hidden: number } {
  const live = clusters.filter(c => isLive(c.state));
  const ended = clusters.filter(c => !isLive(c.state));
  return {
    shown: [...live, ...ended.slice(0, maxEnded)],
    hidden: Math.max(0, ended.length - maxEnded)
  };
}

/** State badge text: `starting`, `running`... */
export function stateLabel(state: ClusterState): string {
  return state.toLowerCase();
}

/** `2 workers × 1 core, 1 GiB each` (from the spec). */
export function describeSpec(spec: IClusterSpec): string {
  const memory = parseMemory(spec.worker_memory);
  return (
    `${plural(spec.workers, 'worker')} × ${plural(spec.worker_cores, 'core')}` +
    (memory === null ? '' : `, ${formatMemory(memory)} each`)
  );
}

/** `2 of 2 workers up · 1 of 2 cores busy` from a running cluster's detail. */
export function describeDetail(cluster: ICluster): string | null {
  if (cluster.workers_alive === undefined) {
    return null;
  }
  const parts = [
    `${cluster.workers_alive} of ${cluster.spec.workers} workers up`
  ];
  if (cluster.cores !== undefined) {
    parts.push(`${cluster.cores_used ?? 0} of ${cluster.cores} cores busy`);
  }
  return parts.join(' · ');
}

/**
 * `terminates if idle at 14:05 (in 42 min)`, from `idle_terminates_at`;
 * `null` without one.
 */
export function idleText(
  idleTerminatesAt: string | null | undefined,
  now: number
): string | null {
  const at = formatClockTime(idleTerminatesAt, now);
  if (!at || !idleTerminatesAt) {
    return null;
  }
  const remaining = (new Date(idleTerminatesAt).getTime() - now) / 1000;
  const when = remaining > 60 ? ` (in ${humanDuration(remaining)})` : '';
  return `terminates if idle at ${at}${when}`;
}

/** The field of the Spark quota section that holds the daily core time. */
const CORE_TIME_FIELD = 'daily_core_seconds';

/**
 * The user's daily Spark core time from `me.resources.spark`, `null` when
 * `me` does not say (an older service, or before the first answer).
 */
export function coreTime(me: IMe | null | undefined): ICoreTime | null {
  const spark = me?.resources?.spark;
  if (!spark || !(CORE_TIME_FIELD in spark.limits)) {
    return null;
  }
  return {
    limit: spark.limits[CORE_TIME_FIELD] ?? null,
    used: spark.in_use[CORE_TIME_FIELD] ?? 0,
    left: spark.left[CORE_TIME_FIELD] ?? null,
    resetsAt: spark.resets_at ?? null
  };
}

/** `3 h 20 min of 16 h core time today`; `null` when unlimited. */
export function describeCoreTime(core: ICoreTime | null): string | null {
  if (!core || core.limit === null || core.left === null) {
    return null;
  }
  return `${humanDuration(core.left)} of ${humanDuration(core.limit)} core time today`;
}

/**
 * Why no cluster can start now that the day's core time is used up (the
 * server refuses it too), `null` while some is left.
 */
export function coreTimeProblem(
  core: ICoreTime | null,
  now: number
): string | null {
  if (!core || core.left === null || core.left > 0) {
    return null;
  }
  if (core.limit === 0) {
    return 'You have no Spark core time. Ask an admin for a quota.';
  }
  const renews = formatClockTime(core.resetsAt, now);
  return (
    'Your Spark core time for today is used up' +
    (renews ? `; it renews at ${renews}.` : '.')
  );
}

/**
 * The user's running cluster that stops first when their daily core time
 * runs out (all of them stop then), `null` when none runs with a deadline.
 * Admins list everyone's clusters: only `user`'s count.
 */
export function budgetCluster(
  clusters: readonly ICluster[] | null,
  user?: string | null
): ICluster | null {
  let first: ICluster | null = null;
  for (const cluster of clusters ?? []) {
    if (
      cluster.state !== 'RUNNING' ||
      !cluster.deadline ||
      (user && cluster.user !== user)
    ) {
      continue;
    }
    if (
      !first ||
      new Date(cluster.deadline).getTime() < new Date(first.deadline!).getTime()
    ) {
      first = cluster;
    }
  }
  return first;
}

/** `Your Spark clusters stop in 15 minutes (daily core time). ...` */
export function budgetWarning(seconds: number): string {
  return (
    `Your Spark clusters stop in ${humanDuration(seconds, 'long')} ` +
    '(daily core time). Save your work: files are kept.'
  );
}

/** The notice once the clusters' daily core time has run out. */
export function budgetEnded(): string {
  return (
    'Your Spark clusters were terminated: your daily Spark core time is ' +
    'used up. Your files are kept.'
  );
}

/**
 * What the lab counts down to while the user's clusters run on a daily
 * budget: warned once per threshold of the clusters' `warn_before_seconds`,
 * and told once per deadline that it passed.
 */
export function budgetCountdown(
  clusters: readonly ICluster[] | null,
  user?: string | null
): ICountdown | null {
  const cluster = budgetCluster(clusters, user);
  if (!cluster?.deadline) {
    return null;
  }
  return {
    id: BUDGET_COUNTDOWN_ID,
    endedId: `${BUDGET_COUNTDOWN_ID}:${cluster.deadline}`,
    deadline: cluster.deadline,
    // the lab's defaults when the service does not say
    thresholds: cluster.warn_before_seconds,
    warning: budgetWarning,
    ended: budgetEnded
  };
}

/** Why a cluster ended, or `null` when it did not (or nobody said). */
export function reasonText(cluster: ICluster): string | null {
  if (cluster.state === 'FAILED') {
    return cluster.state_reason || 'The cluster failed to start.';
  }
  if (cluster.state === 'TERMINATED') {
    return cluster.state_reason || 'Terminated.';
  }
  return null;
}

/**
 * Absolute address of a hub-relative URL (the Spark UI), for a new tab:
 * `hubHost + path`; an empty `hubHost` keeps it on this origin. URLs that
 * are already absolute are kept.
 */
export function hubUrl(
  hubHost: string | null | undefined,
  path: string
): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return path;
  }
  const host = (hubHost ?? '').replace(/\/+$/, '');
  const rooted = path.startsWith('/') ? path : `/${path}`;
  return `${host}${rooted}`;
}

/** Ready-to-show text of the connection, for the banner. */
export function connectionText(
  name: string,
  state: ClusterState | null
): {
  text: string;
  usable: boolean;
} {
  if (state === 'RUNNING') {
    return {
      text: `Connected: new PySpark and Scala notebooks run on ${name}`,
      usable: true
    };
  }
  const what = state === null ? 'no longer listed' : stateLabel(state);
  return {
    text: `Spark notebooks are set to ${name}, which is ${what}: connect to a running cluster.`,
    usable: false
  };
}
