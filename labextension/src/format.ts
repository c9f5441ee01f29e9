/**
 * Pure formatting helpers (only type imports, so unit tests stay light).
 */

import type { DeadlineReason, IProfile, IProfileLimits, Quota } from './tokens';

/** Pad a non-negative integer to two digits. */
function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/**
 * Format a duration as `HH:MM:SS`.
 *
 * Negative or non-finite durations show as `00:00:00`; hours are not
 * wrapped at 24 (`27:00:00` for 27 hours). Partial seconds round up, so a
 * countdown reads `00:00:01` until the deadline is really reached.
 */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds <= 0) {
    return '00:00:00';
  }
  const total = Math.ceil(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}`;
}

/**
 * Milliseconds from `now` until `deadline`.
 *
 * @param deadline - ISO 8601 string, or epoch milliseconds.
 * @param now - Epoch milliseconds.
 * @returns `null` when the deadline is missing or cannot be parsed.
 */
export function remainingMilliseconds(
  deadline: string | number | null | undefined,
  now: number
): number | null {
  if (deadline === null || deadline === undefined || deadline === '') {
    return null;
  }
  const end =
    typeof deadline === 'number' ? deadline : new Date(deadline).getTime();
  if (!Number.isFinite(end)) {
    return null;
  }
  return end - now;
}

/**
 * Text of a session countdown: `HH:MM:SS left`, `time is up` once the
 * deadline has passed, or `null` without a usable deadline.
 */
export function formatCountdown(
  deadline: string | number | null | undefined,
  now: number
): string | null {
  const remaining = remainingMilliseconds(deadline, now);
  if (remaining === null) {
    return null;
  }
  if (remaining <= 0) {
    return 'time is up';
  }
  return `${formatDuration(remaining)} left`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Human-readable size in binary multiples: `512 B`, `1.5 KiB`, `15 GiB`.
 * One decimal below 10 units, none above.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return '0 B';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

const DECIMAL_BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/**
 * Human-readable size in decimal multiples, as storage quotas are set
 * (`15000000000` is `15 GB`): `512 B`, `1.2 GB`, `15 GB`. One decimal below
 * 10 units, none above.
 */
export function formatDecimalBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return '0 B';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL_BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  // 9.96 GB would print as "10.0 GB": keep one decimal only below 9.95.
  const digits = unit === 0 || value >= 9.95 ? 0 : 1;
  return `${value.toFixed(digits)} ${DECIMAL_BYTE_UNITS[unit]}`;
}

/** Split whole seconds into hours, minutes and seconds. */
function splitSeconds(total: number): [number, number, number] {
  return [
    Math.floor(total / 3600),
    Math.floor((total % 3600) / 60),
    total % 60
  ];
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * A duration for people, from seconds.
 *
 * - `short` (bars and tables): `45 s`, `2 min`, `4 h`, `7 h 58 min`; from a
 *   minute on, seconds are dropped (rounded down, so time left is never
 *   overstated).
 * - `long` (sentences): `30 seconds`, `5 minutes`, `1 minute 30 seconds`,
 *   `1 hour`, `2 hours 15 minutes`; from an hour on, seconds are dropped.
 *
 * Negative or non-finite values read as zero (`0 min`, `0 seconds`).
 */
export function humanDuration(
  seconds: number,
  style: 'short' | 'long' = 'short'
): string {
  const total =
    Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const [h, m, s] = splitSeconds(total);
  if (style === 'long') {
    if (h > 0) {
      return m > 0
        ? `${plural(h, 'hour')} ${plural(m, 'minute')}`
        : plural(h, 'hour');
    }
    if (m > 0) {
      return s > 0
        ? `${plural(m, 'minute')} ${plural(s, 'second')}`
        : plural(m, 'minute');
    }
    return plural(s, 'second');
  }
  if (total === 0) {
    return '0 min';
  }
  if (h > 0) {
    return m > 0 ? `${h} h ${m} min` : `${h} h`;
  }
  return m > 0 ? `${m} min` : `${s} s`;
}

/**
 * Local wall-clock time of an ISO timestamp relative to `now`: `08:19` on
 * the same day, `tomorrow 08:19` on the next, else `26 Nov 08:19`. `null`
 * when missing or unparsable.
 */
export function formatClockTime(
  iso: string | null | undefined,
  now: number
): string | null {
  if (!iso) {
    return null;
  }
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) {
    return null;
  }
  const clock = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  const today = new Date(now);
  const tomorrow = new Date(
    today.getFullYear(),
    today.getMonth(),
    today.getDate() + 1
  );
  const sameDay = (a: Date, b: Date): boolean =>
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate();
  if (sameDay(at, today)) {
    return clock;
  }
  if (sameDay(at, tomorrow)) {
    return `tomorrow ${clock}`;
  }
  const month = at.toLocaleString('en', { month: 'short' });
  return `${at.getDate()} ${month} ${clock}`;
}

/** What a deadline reason means, in a few words. */
export function formatDeadlineReason(
  reason: DeadlineReason | null | undefined
): string | null {
  switch (reason) {
    case 'session_limit':
      return 'session limit';
    case 'daily_budget':
      return 'daily budget';
    default:
      return null;
  }
}

/** The limits of one profile in a quota, `null` when absent. */
export function profileLimits(
  quota: Quota | null | undefined,
  profile: string
): IProfileLimits | null {
  if (profile === 'storage_bytes') {
    return null;
  }
  const limits = quota?.[profile];
  return typeof limits === 'object' && limits !== null ? limits : null;
}

/** Display name of a profile, or its machine name when unknown. */
export function profileDisplayName(
  profiles: readonly IProfile[] | null | undefined,
  name: string
): string {
  return profiles?.find(p => p.name === name)?.display_name || name;
}

/** Colour level of a bar: warn from `warnAt`, danger from `dangerAt`. */
export type MeterLevel = 'ok' | 'warn' | 'danger';

export function meterLevel(
  fraction: number | null,
  warnAt: number,
  dangerAt: number
): MeterLevel {
  if (fraction === null) {
    return 'ok';
  }
  if (fraction >= dangerAt) {
    return 'danger';
  }
  return fraction >= warnAt ? 'warn' : 'ok';
}

/**
 * Fraction of `limit` that `used` represents, clamped to [0, 1]; `null`
 * when there is no usable limit.
 */
export function usedFraction(
  used: number,
  limit: number | null | undefined
): number | null {
  if (limit === null || limit === undefined || !(limit > 0)) {
    return null;
  }
  if (!Number.isFinite(used) || used <= 0) {
    return 0;
  }
  return Math.min(1, used / limit);
}

/**
 * Text of the status bar item: `labdeck`, `labdeck · alice` (no session),
 * or `labdeck · GPU · 01:02:03 left` (the running profile and countdown).
 */
export function formatStatusText(
  label: string | null | undefined,
  countdown: string | null | undefined
): string {
  const parts = ['labdeck'];
  if (label) {
    parts.push(label);
  }
  if (countdown) {
    parts.push(countdown);
  }
  return parts.join(' · ');
}

/**
 * How far a resource has got in starting (a cluster, a deployment), as the
 * service's lifecycle reports it: `Waiting for workers to register`, 1 of 3.
 */
export interface IProgress {
  step: string;
  done: number;
  total: number;
}

/** Fraction of the start done, in [0, 1]; `null` without progress. */
export function progressFraction(
  progress: IProgress | null | undefined
): number | null {
  if (!progress || !(progress.total > 0)) {
    return null;
  }
  return Math.min(1, Math.max(0, progress.done / progress.total));
}

/** `Waiting for workers to register (1 of 3)`. */
export function progressText(progress: IProgress | null | undefined): string {
  if (!progress) {
    return 'Starting…';
  }
  const step = progress.step || 'Starting';
  return progress.total > 0
    ? `${step} (${progress.done} of ${progress.total})`
    : step;
}

/** A state as the service writes it, for people: `IN_SERVICE` → `In service`. */
export function formatState(state: string): string {
  const words = state.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
