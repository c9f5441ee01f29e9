/**
 * Data of the usage charts: pure functions, no DOM.
 */

import type { IChartSeries } from '../components/chart';
import { DurationUnit, inUnit } from '../durationUnit';
import type { IUsageRow } from '../tokens';

/** One part of a bar. */
export interface ISegment {
  /** Series key (a profile name, or `total`). */
  key: string;
  /** Seconds. */
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
 * Seconds per user, stacked by profile (profiles in `profileOrder`, then any
 * others by name); users by total, largest first.
 */
export function userBars(
  rows: readonly IUsageRow[],
  profileOrder: readonly string[] = []
): IBar[] {
  const byUser = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const profiles = byUser.get(row.user) ?? new Map<string, number>();
    profiles.set(row.profile, (profiles.get(row.profile) ?? 0) + row.seconds);
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
      const value = Math.max(0, seconds);
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

/**
 * The bars as chart columns: one series per key in `keys` that some bar
 * has, values in `unit` (`null` where a bar has no such segment).
 */
export function barSeries(
  bars: readonly IBar[],
  keys: readonly string[],
  label: (key: string) => string,
  unit: DurationUnit
): IChartSeries[] {
  return keys
    .filter(key => bars.some(b => b.segments.some(s => s.key === key)))
    .map(key => ({
      key,
      label: label(key),
      values: bars.map(bar => {
        const segment = bar.segments.find(s => s.key === key);
        return segment ? inUnit(segment.value, unit) : null;
      })
    }));
}

function sum(segments: ISegment[]): number {
  return segments.reduce((total, s) => total + s.value, 0);
}
