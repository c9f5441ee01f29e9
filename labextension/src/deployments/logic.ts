/**
 * Pure logic of the Deployments section and tabs: form checks, wording,
 * snippets and chart data. No side effects, no JupyterLab imports (only
 * types), so every rule is unit-tested on its own.
 */

import type { ISeriesData } from '../components/seriesChart';
import type { StateTone } from '../components/stateChip';
import {
  DEFAULT_IDLE_SECONDS,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_MEMORY_MB,
  DEFAULT_REPLICAS,
  DeploymentAccess,
  DeploymentMode,
  DeploymentState,
  ICreateDeploymentRequest,
  IDeployment,
  IMetricMinute,
  IRecommendationRequest,
  IRecommendationRun,
  IUpdateDeploymentRequest,
  MAX_CONCURRENCY,
  MAX_IDLE_SECONDS,
  MAX_MEMORY_MB,
  MAX_NAME_LENGTH,
  MIN_IDLE_SECONDS,
  MIN_MEMORY_MB,
  NAME_PATTERN,
  RECOMMENDER_CANDIDATES,
  RECOMMENDER_DURATION_SECONDS,
  SAMPLE_PAYLOAD,
  TRANSITIONAL_STATES
} from './tokens';

/** Minutes of metrics kept in the browser (the service keeps a day). */
export const MAX_MINUTES = 24 * 60;

/** How each state looks on its chip. */
const TONES: Record<DeploymentState, StateTone> = {
  CREATING: 'waiting',
  IN_SERVICE: 'active',
  UPDATING: 'waiting',
  DELETING: 'waiting',
  STOPPED: 'ended',
  FAILED: 'failed'
};

export function stateTone(state: DeploymentState): StateTone {
  return TONES[state] ?? 'ended';
}

/** Whether a deployment is about to change by itself. */
export function isTransitional(state: DeploymentState): boolean {
  return TRANSITIONAL_STATES.includes(state);
}

/** `alice/echo`: what tells deployments apart (admins see others'). */
export function deploymentKey(ref: { user: string; name: string }): string {
  return `${ref.user}/${ref.name}`;
}

/** Choices of the mode and access selects. */
export const MODE_OPTIONS: { label: string; value: DeploymentMode }[] = [
  { label: 'Realtime (always on)', value: 'realtime' },
  { label: 'Serverless (scales to zero)', value: 'serverless' }
];
export const ACCESS_OPTIONS: { label: string; value: DeploymentAccess }[] = [
  { label: 'Private (you and admins)', value: 'private' },
  { label: 'Hub users (anyone logged in)', value: 'hub' },
  { label: 'Key (callers outside the hub)', value: 'key' }
];

/** Who may call it, in a few words. */
export function accessText(access: DeploymentAccess): string {
  switch (access) {
    case 'hub':
      return 'hub users';
    case 'key':
      return 'with a key';
    default:
      return 'private';
  }
}

/**
 * How it serves, e.g. `realtime · 2 of 2 replicas · private`, or
 * `serverless · at zero · with a key` while a serverless one is idle.
 */
export function describeServing(deployment: IDeployment): string {
  const { spec, replicas_running: running } = deployment;
  let replicas: string;
  if (spec.mode === 'serverless') {
    replicas =
      running === 0
        ? 'at zero'
        : `${running} ${running === 1 ? 'replica' : 'replicas'}`;
  } else {
    replicas = `${running} of ${spec.replicas} ${spec.replicas === 1 ? 'replica' : 'replicas'}`;
  }
  return [spec.mode, replicas, accessText(spec.access)].join(' · ');
}

/** A folder path as the service takes it: `models/iris/` → `models/iris`. */
export function homePath(path: string): string {
  return path.trim().replace(/\/+$/, '');
}

/**
 * The name a folder suggests: its last part lowercased, other characters
 * turned into dashes, starting with a letter (`models/Iris_v2` → `iris-v2`).
 */
export function nameFromFolder(folder: string): string {
  const base = homePath(folder).split('/').pop() ?? '';
  let name = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) {
    name = name ? `model-${name}` : '';
  }
  return name.slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
}

/** What the user typed in the deploy form. */
export interface IDeployForm {
  modelDir: string;
  name: string;
  mode: DeploymentMode;
  replicas: string;
  maxConcurrency: string;
  idleSeconds: string;
  memoryMb: string;
  access: DeploymentAccess;
}

export function defaultDeployForm(modelDir = ''): IDeployForm {
  return {
    modelDir,
    name: nameFromFolder(modelDir),
    mode: 'realtime',
    replicas: String(DEFAULT_REPLICAS),
    maxConcurrency: String(DEFAULT_MAX_CONCURRENCY),
    idleSeconds: String(DEFAULT_IDLE_SECONDS),
    memoryMb: String(DEFAULT_MEMORY_MB),
    access: 'private'
  };
}

/** A whole number typed in a field, or `null`. */
export function wholeNumber(text: string): number | null {
  const value = Number(text.trim());
  return text.trim().length > 0 && Number.isInteger(value) ? value : null;
}

/** `text` as a whole number in [low, high], or the problem with it. */
function checkWhole(
  text: string,
  what: string,
  low: number,
  high: number | null,
  problems: string[]
): number {
  const value = wholeNumber(text);
  if (value === null || value < low || (high !== null && value > high)) {
    problems.push(
      high === null
        ? `${what} must be a whole number of at least ${low}.`
        : `${what} must be a whole number from ${low} to ${high}.`
    );
    return NaN;
  }
  return value;
}

/** The problem with a model folder path, or `null`. */
function folderProblem(folder: string): string | null {
  if (folder.length === 0) {
    return 'Give the model folder (in your home).';
  }
  if (
    folder.startsWith('/') ||
    folder.startsWith('~') ||
    folder.split('/').includes('..')
  ) {
    return 'The model folder must be inside your home folder.';
  }
  return null;
}

/**
 * The `POST deployments` body of the form, or what is wrong with it. The
 * service checks again (and whether the folder holds a model); this only
 * spares a round trip for plain mistakes.
 */
export function validateDeployForm(form: IDeployForm): {
  request: ICreateDeploymentRequest | null;
  problems: string[];
} {
  const problems: string[] = [];
  const modelDir = homePath(form.modelDir);
  const folder = folderProblem(modelDir);
  if (folder) {
    problems.push(folder);
  }
  const name = form.name.trim();
  if (!NAME_PATTERN.test(name)) {
    problems.push(
      'The name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter (it is part of the endpoint’s URL).'
    );
  }
  const serverless = form.mode === 'serverless';
  const replicas = serverless
    ? DEFAULT_REPLICAS
    : checkWhole(form.replicas, 'Replicas', 1, null, problems);
  const maxConcurrency = checkWhole(
    form.maxConcurrency,
    'Max concurrency',
    1,
    MAX_CONCURRENCY,
    problems
  );
  const idle = serverless
    ? checkWhole(
        form.idleSeconds,
        'Idle seconds to zero',
        MIN_IDLE_SECONDS,
        MAX_IDLE_SECONDS,
        problems
      )
    : null;
  const memory = checkWhole(
    form.memoryMb,
    'Memory (MB)',
    MIN_MEMORY_MB,
    MAX_MEMORY_MB,
    problems
  );
  if (problems.length > 0) {
    return { request: null, problems };
  }
  const request: ICreateDeploymentRequest = {
    name,
    model_dir: modelDir,
    mode: form.mode,
    replicas,
    max_concurrency: maxConcurrency,
    memory_mb: memory,
    access: form.access
  };
  if (idle !== null) {
    request.idle_seconds_to_zero = idle;
  }
  return { request, problems };
}

/** What the user typed in a deployment's update form. */
export interface IUpdateForm {
  modelDir: string;
  replicas: string;
  maxConcurrency: string;
  idleSeconds: string;
  access: DeploymentAccess;
}

/** The update form showing how `deployment` serves now. */
export function updateFormOf(deployment: IDeployment): IUpdateForm {
  const { spec } = deployment;
  return {
    modelDir: spec.model_dir,
    replicas: String(spec.replicas),
    maxConcurrency: String(spec.max_concurrency),
    idleSeconds: String(spec.idle_seconds_to_zero ?? DEFAULT_IDLE_SECONDS),
    access: spec.access
  };
}

/**
 * The `PUT deployments/<name>` body of the form: only what differs from
 * how it serves now (`null` when nothing does), or what is wrong.
 */
export function validateUpdateForm(
  form: IUpdateForm,
  deployment: IDeployment
): { request: IUpdateDeploymentRequest | null; problems: string[] } {
  const { spec } = deployment;
  const problems: string[] = [];
  const request: IUpdateDeploymentRequest = {};
  const modelDir = homePath(form.modelDir);
  const folder = folderProblem(modelDir);
  if (folder) {
    problems.push(folder);
  } else if (modelDir !== spec.model_dir) {
    request.model_dir = modelDir;
  }
  if (spec.mode === 'realtime') {
    const replicas = checkWhole(form.replicas, 'Replicas', 1, null, problems);
    if (Number.isFinite(replicas) && replicas !== spec.replicas) {
      request.replicas = replicas;
    }
  } else {
    const idle = checkWhole(
      form.idleSeconds,
      'Idle seconds to zero',
      MIN_IDLE_SECONDS,
      MAX_IDLE_SECONDS,
      problems
    );
    if (Number.isFinite(idle) && idle !== spec.idle_seconds_to_zero) {
      request.idle_seconds_to_zero = idle;
    }
  }
  const concurrency = checkWhole(
    form.maxConcurrency,
    'Max concurrency',
    1,
    MAX_CONCURRENCY,
    problems
  );
  if (Number.isFinite(concurrency) && concurrency !== spec.max_concurrency) {
    request.max_concurrency = concurrency;
  }
  if (form.access !== spec.access) {
    request.access = form.access;
  }
  if (problems.length > 0 || Object.keys(request).length === 0) {
    return { request: null, problems };
  }
  return { request, problems };
}

/** A JSON payload typed in the test form, or why it is not JSON. */
export function parsePayload(
  text: string
): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : '';
    return { ok: false, problem: `The payload is not JSON${detail}.` };
  }
}

/** An answer's body for people: JSON indented, anything else as it came. */
export function formatBody(body: string, contentType: string): string {
  if (!contentType.includes('json')) {
    return body;
  }
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * The endpoint's absolute URL: the service gives a path on the hub's
 * host (`/services/labdeck/...`); `origin` is that host (`hubHost`, or the
 * page's origin when the lab is served by the hub's own proxy).
 */
export function endpointUrl(origin: string, path: string): string {
  if (/^https?:\/\//.test(path)) {
    return path;
  }
  return `${origin.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** A shell word in single quotes. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The payload to put in snippets: the one typed if it is JSON, else the sample. */
function snippetPayload(payload: string): unknown {
  const parsed = parsePayload(payload);
  return parsed.ok ? parsed.value : JSON.parse(SAMPLE_PAYLOAD);
}

/**
 * A `curl` call of the endpoint: with the hub token of a lab's terminal
 * (`$JUPYTERHUB_API_TOKEN`) for private and hub access, with its key for
 * key access (`<key>` when the key is not known here: it is shown once).
 */
export function curlSnippet(
  deployment: IDeployment,
  url: string,
  payload: string,
  key?: string | null
): string {
  const auth =
    deployment.spec.access === 'key'
      ? shellQuote(`Authorization: Bearer ${key || '<key>'}`)
      : '"Authorization: token $JUPYTERHUB_API_TOKEN"';
  return [
    `curl -X POST ${shellQuote(url)} \\`,
    `  -H ${auth} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify(snippetPayload(payload)))}`
  ].join('\n');
}

/** A JSON value as a Python literal (`null` → `None`, `true` → `True`). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(pythonLiteral).join(', ')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`
  );
  return `{${entries.join(', ')}}`;
}

/** A call of the endpoint from a notebook of the lab, with labdeck's client. */
export function pythonSnippet(
  deployment: IDeployment,
  payload: string
): string {
  const ref = pythonLiteral({ user: deployment.user, name: deployment.name });
  return [
    'from labdeck.deployments.client import Deployment',
    'from labdeck.widgets.client import LabdeckClient',
    '',
    `endpoint = Deployment(LabdeckClient(), ${ref})`,
    `print(endpoint.invoke(${pythonLiteral(snippetPayload(payload))}))`
  ].join('\n');
}

/** Epoch seconds of a minute's ISO time. */
function seconds(minute: IMetricMinute): number {
  return Date.parse(minute.time) / 1000;
}

/**
 * The minutes read so far with `fresh` ones: a minute read again (the
 * current one, still counting) replaces its older copy. Oldest first,
 * at most `max`.
 */
export function mergeMinutes(
  kept: readonly IMetricMinute[],
  fresh: readonly IMetricMinute[],
  max = MAX_MINUTES
): IMetricMinute[] {
  const byTime = new Map<number, IMetricMinute>();
  for (const minute of [...kept, ...fresh]) {
    byTime.set(seconds(minute), minute);
  }
  return [...byTime.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, minute]) => minute)
    .slice(-max);
}

/** The `since` of the next metrics read: the last minute read, read again. */
export function nextSince(minutes: readonly IMetricMinute[]): number {
  return minutes.length > 0 ? seconds(minutes[minutes.length - 1]) : 0;
}

/** Minutes a metric chart shows at least, up to now. */
export const CHART_MINUTES = 30;

/**
 * What a minute without a record means for a field: no call (`zero`:
 * counts), nothing measured (`gap`: latencies), or as before (`carry`:
 * replicas, recorded only when they change or a call comes).
 */
export type MinuteFill = 'zero' | 'gap' | 'carry';

/** A chart's field: which, its label, and what a minute without record means. */
export type MinuteField = [keyof IMetricMinute, string, MinuteFill];

/**
 * A chart's data: one point a minute from the first minute recorded (or
 * `windowMinutes` ago, if later) to the current minute, each field a
 * series; none before a first record. The service records only minutes in
 * which something happened.
 */
export function minuteSeries(
  minutes: readonly IMetricMinute[],
  fields: readonly MinuteField[],
  nowMs: number,
  windowMinutes = CHART_MINUTES
): ISeriesData {
  if (minutes.length === 0) {
    return { x: [], series: [], time: true };
  }
  const byMinute = new Map<number, IMetricMinute>();
  for (const m of minutes) {
    byMinute.set(Math.floor(seconds(m) / 60), m);
  }
  const last = Math.floor(nowMs / 60_000);
  const recorded = [...byMinute.keys()];
  const first = Math.min(last - windowMinutes + 1, ...recorded);
  const end = Math.max(last, ...recorded);
  const x: number[] = [];
  for (let at = first; at <= end; at++) {
    x.push(at * 60);
  }
  return {
    x,
    series: fields.map(([key, label, fill]) => {
      let previous: number | null = null;
      const values = x.map(at => {
        const value = byMinute.get(at / 60)?.[key];
        if (typeof value === 'number' && Number.isFinite(value)) {
          previous = value;
          return value;
        }
        return fill === 'zero' ? 0 : fill === 'carry' ? previous : null;
      });
      return { key, label, values };
    }),
    time: true
  };
}

/** The `POST recommendations` body, or what is wrong with the inputs. */
export function recommendationRequest(
  payload: string,
  latencyTarget: string
): { request: IRecommendationRequest | null; problems: string[] } {
  const problems: string[] = [];
  const parsed = parsePayload(payload);
  if (!parsed.ok) {
    problems.push(`${parsed.problem} The recommender sends the test payload.`);
  }
  const target = Number(latencyTarget.trim());
  if (
    latencyTarget.trim().length === 0 ||
    !Number.isFinite(target) ||
    target <= 0
  ) {
    problems.push('The latency target must be a positive number of ms.');
  }
  if (!parsed.ok || problems.length > 0) {
    return { request: null, problems };
  }
  return {
    request: {
      payload: parsed.value,
      duration_seconds: RECOMMENDER_DURATION_SECONDS,
      candidates: RECOMMENDER_CANDIDATES.map(c => ({ ...c })),
      latency_target_ms: target
    },
    problems
  };
}

/** `Load-testing: 1 of 2 configurations done`. */
export function recommendationProgress(run: IRecommendationRun): string {
  const { progress } = run;
  if (!progress || !(progress.total > 0)) {
    return 'Load-testing…';
  }
  return `Load-testing: ${progress.done} of ${progress.total} configurations done`;
}

/** Whether `result` is the run's recommended one. */
export function isRecommended(
  run: IRecommendationRun,
  result: IRecommendationRun['results'][number]
): boolean {
  const best = run.recommended;
  return (
    best !== null &&
    best.replicas === result.replicas &&
    best.workers === result.workers
  );
}
