/**
 * Pure formatting helpers (no imports, so unit tests stay light).
 */

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
 * Text of the status bar item: `labdeck`, `labdeck · alice`, or
 * `labdeck · alice · 01:02:03 left`.
 */
export function formatStatusText(
  user: string | null | undefined,
  countdown: string | null | undefined
): string {
  const parts = ['labdeck'];
  if (user) {
    parts.push(user);
  }
  if (countdown) {
    parts.push(countdown);
  }
  return parts.join(' · ');
}
