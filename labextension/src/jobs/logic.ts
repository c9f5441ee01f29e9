import type { ISeriesData } from '../components/seriesChart';
import {
  IJob,
  ILogChunk,
  IMetricDefinition,
  IMetricPoint,
  ISubmitJobRequest,
  JobState,
  LIVE_STATES,
  MAX_LOG_CHARS
} from './tokens';

/** Whether a job still changes by itself (its log and metrics grow). */
export function isLive(state: JobState): boolean {
  return LIVE_STATES.includes(state);
}

/** The log of a job as far as the browser has read it. */
export interface ILogTail {
  /** The text kept (at most `MAX_LOG_CHARS`, the end of the log). */
  text: string;
  /** Where the next read starts. */
  offset: number;
  /** Whether the start of the log was dropped or skipped. */
  truncated: boolean;
}

export const EMPTY_LOG: ILogTail = { text: '', offset: 0, truncated: false };

/**
 * The tail after reading `chunk`: appended when it starts where the last
 * read ended; otherwise (the server skipped a too large part, or the log
 * was replaced) the chunk starts the tail anew.
 */
export function appendLog(
  tail: ILogTail,
  chunk: ILogChunk,
  max = MAX_LOG_CHARS
): ILogTail {
  const contiguous = chunk.offset === tail.offset;
  let text = contiguous ? tail.text + chunk.text : chunk.text;
  let truncated = contiguous ? tail.truncated : chunk.offset > 0;
  if (text.length > max) {
    text = text.slice(text.length - max);
    truncated = true;
  }
  return { text, offset: chunk.next_offset, truncated };
}

/**
 * The chart data of the points from `sources`: one series per metric
 * name, by step when every point has one, else by time; points at the
 * same x are merged, a missing value is a gap.
 */
export function metricSeries(
  points: readonly IMetricPoint[],
  sources: readonly IMetricPoint['source'][]
): ISeriesData {
  const chosen = points.filter(p => sources.includes(p.source));
  const time = chosen.some(p => p.step === null || p.step === undefined);
  const rows = new Map<number, Record<string, number>>();
  const names = new Set<string>();
  for (const point of chosen) {
    const x = time ? point.t : (point.step as number);
    const row = rows.get(x) ?? {};
    for (const [name, value] of Object.entries(point.values)) {
      if (typeof value === 'number' && Number.isFinite(value)) {
        row[name] = value;
        names.add(name);
      }
    }
    rows.set(x, row);
  }
  const x = [...rows.keys()].sort((a, b) => a - b);
  const series = [...names].sort().map(name => ({
    key: name,
    label: name,
    values: x.map(at => rows.get(at)![name] ?? null)
  }));
  return { x, series, time };
}

/** What the user typed in the submit form. */
export interface IJobForm {
  name: string;
  script: string;
  profile: string;
  /** Runtime limit in minutes, as typed. */
  maxRuntimeMinutes: string;
  /** One `name=regex` per line. */
  metrics: string;
}

const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The metric definitions of `name=regex` lines, and what is wrong with them. */
export function parseMetricLines(text: string): {
  definitions: IMetricDefinition[];
  problems: string[];
} {
  const definitions: IMetricDefinition[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.length === 0) {
      return;
    }
    const at = line.indexOf('=');
    const name = at < 0 ? '' : line.slice(0, at).trim();
    const regex = at < 0 ? '' : line.slice(at + 1).trim();
    if (!METRIC_NAME.test(name) || regex.length === 0) {
      problems.push(
        `Metric line ${index + 1}: write name=regex, e.g. loss=loss: ([0-9.]+).`
      );
    } else if (definitions.some(d => d.name === name)) {
      problems.push(`Metric line ${index + 1}: ${name} is defined twice.`);
    } else {
      definitions.push({ name, regex });
    }
  });
  return { definitions, problems };
}

/** The script's file name without its extension: the default job name. */
export function defaultJobName(script: string): string {
  const base = script.trim().split('/').pop() ?? '';
  return base.replace(/\.[^.]*$/, '');
}

/**
 * The `POST jobs` body of the form, or why it cannot be sent. The service
 * checks again; this only spares a round trip for plain mistakes.
 */
export function validateJobForm(form: IJobForm): {
  request: ISubmitJobRequest | null;
  problems: string[];
} {
  const problems: string[] = [];
  const script = form.script.trim();
  if (script.length === 0) {
    problems.push('Give the path of the script to run.');
  } else if (script.startsWith('/') || script.split('/').includes('..')) {
    problems.push('The script path must be inside your home folder.');
  }
  if (form.profile.length === 0) {
    problems.push('Choose a runtime.');
  }
  const minutes = Number(form.maxRuntimeMinutes);
  if (
    form.maxRuntimeMinutes.trim().length === 0 ||
    !Number.isFinite(minutes) ||
    minutes <= 0
  ) {
    problems.push('The runtime limit must be a positive number of minutes.');
  }
  const metrics = parseMetricLines(form.metrics);
  problems.push(...metrics.problems);
  if (problems.length > 0) {
    return { request: null, problems };
  }
  return {
    request: {
      name: form.name.trim() || defaultJobName(script),
      script,
      profile: form.profile,
      max_runtime_seconds: Math.round(minutes * 60),
      metric_definitions: metrics.definitions
    },
    problems
  };
}

/** The when of a job, e.g. `started 14:02 · ended 14:30`. */
export function jobTimes(job: IJob): string {
  const time = (iso: string): string =>
    new Date(iso).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit'
    });
  const parts = [
    job.started
      ? `started ${time(job.started)}`
      : `submitted ${time(job.created)}`
  ];
  if (job.ended) {
    parts.push(`ended ${time(job.ended)}`);
  }
  return parts.join(' · ');
}

/** What the system points give of each of a job's GPUs (through NVML). */
export type GpuMeasure = 'utilization_percent' | 'memory_bytes';

const GPU_SERIES = /^gpu(\d+)_(utilization_percent|memory_bytes)$/;

/**
 * One series per GPU of the job (`gpu<N>_<measure>` of the system
 * points), labelled `GPU <N>` in device order and scaled; empty for a job
 * without GPUs.
 */
export function gpuSeries(
  data: ISeriesData,
  measure: GpuMeasure,
  scale = 1
): ISeriesData {
  const devices = data.series
    .map(series => ({ series, match: GPU_SERIES.exec(series.key) }))
    .filter(({ match }) => match !== null && match[2] === measure)
    .map(({ series, match }) => ({ index: Number(match![1]), series }))
    .sort((a, b) => a.index - b.index);
  return {
    x: devices.length > 0 ? data.x : [],
    series: devices.map(({ index, series }) => ({
      key: series.key,
      label: `GPU ${index}`,
      values: series.values.map(v => (v === null ? null : v * scale))
    })),
    time: data.time
  };
}
