/**
 * Data and scale of the usage chart: pure functions, no DOM.
 */

import type { IUsageRow } from '../tokens';

/** One part of a bar. */
export interface ISegment {
  /** Series key (a profile name, or `total`). */
  key: string;
  /** Hours. */
  value: number;
}

/** One bar: a label and its stacked segments. */
export interface IBar {
  label: string;
  segments: ISegment[];
  /** Sum of the segments. */
  total: number;
}

/**
 * The smallest "nice" number (1, 2, 2.5, 5 × 10ⁿ) at or above `value`, so
 * axis ticks read well. `1` for zero or invalid input.
 */
export function niceCeiling(value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    return 1;
  }
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * magnitude;
    // Tolerate float noise (0.30000000000000004).
    if (candidate >= value * (1 - 1e-9)) {
      return candidate;
    }
  }
  return 10 * magnitude;
}

/** Axis ticks from 0 to a nice ceiling of `max`, `count` intervals. */
export function axisTicks(max: number, count = 4): number[] {
  const top = niceCeiling(max);
  const step = niceCeiling(top / count);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top * (1 + 1e-9); i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  // Keep the last tick at or above the data.
  if (ticks[ticks.length - 1] < max) {
    ticks.push(Number((ticks.length * step).toPrecision(12)));
  }
  return ticks;
}

/** Pixel length of `value` on an axis from 0 to `max` over `length` px. */
export function scaleLength(
  value: number,
  max: number,
  length: number
): number {
  if (!(max > 0) || !Number.isFinite(value) || value <= 0) {
    return 0;
  }
  return Math.min(length, (value / max) * length);
}

function hours(seconds: number): number {
  return seconds / 3600;
}

/**
 * Hours per user, stacked by profile (profiles in `profileOrder`, then any
 * others by name); users by total, largest first.
 */
export function userBars(
  rows: readonly IUsageRow[],
  profileOrder: readonly string[] = []
): IBar[] {
  const byUser = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const profiles = byUser.get(row.user) ?? new Map<string, number>();
    profiles.set(
      row.profile,
      (profiles.get(row.profile) ?? 0) + hours(row.seconds)
    );
    byUser.set(row.user, profiles);
  }
  const order = seriesKeys(rows, profileOrder);
  const bars = Array.from(byUser, ([user, profiles]) => {
    const segments = order
      .filter(key => (profiles.get(key) ?? 0) > 0)
      .map(key => ({ key, value: profiles.get(key) as number }));
    return { label: user, segments, total: sum(segments) };
  });
  return bars.sort(
    (a, b) => b.total - a.total || a.label.localeCompare(b.label)
  );
}

/**
 * One bar per key of a totals map (seconds), largest first; each bar's
 * segment key is `seriesKey(label)` (the profile itself for profile totals,
 * `total` for group totals).
 */
export function totalBars(
  totals: { [key: string]: number },
  seriesKey: (label: string) => string = () => 'total'
): IBar[] {
  return Object.entries(totals)
    .map(([label, seconds]) => {
      const value = hours(seconds);
      return {
        label,
        segments: value > 0 ? [{ key: seriesKey(label), value }] : [],
        total: value
      };
    })
    .sort((a, b) => b.total - a.total || a.label.localeCompare(b.label));
}

/** Profiles of the rows: known order first, then the others by name. */
export function seriesKeys(
  rows: readonly IUsageRow[],
  profileOrder: readonly string[] = []
): string[] {
  const present = new Set(rows.map(r => r.profile));
  const known = profileOrder.filter(p => present.has(p));
  const others = Array.from(present)
    .filter(p => !known.includes(p))
    .sort();
  return [...known, ...others];
}

function sum(segments: ISegment[]): number {
  return segments.reduce((total, s) => total + s.value, 0);
}
