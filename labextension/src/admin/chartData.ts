/**
 * Data of the usage charts: pure functions, no DOM.
 */

import type { IChartSeries } from '../components/chart';
import { DurationUnit, inUnit } from '../durationUnit';
import type { IUsageRow } from '../tokens';
import { chartSeconds, KIND_SERIES, seriesKeyOf } from './kinds';

/** One part of a bar. */
export interface ISegment {
  /** Series key (a runtime, a kind's key, or `total`). */
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
 * Seconds per user, stacked by series: session runtimes (in `profileOrder`,
 * then any others by name), then training jobs, Spark core time and
 * deployments; users by total, largest first.
 */
export function userBars(
  rows: readonly IUsageRow[],
  profileOrder: readonly string[] = []
): IBar[] {
  const byUser = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const series = byUser.get(row.user) ?? new Map<string, number>();
    const key = seriesKeyOf(row);
    series.set(key, (series.get(key) ?? 0) + chartSeconds(row));
    byUser.set(row.user, series);
  }
  const order = seriesKeys(rows, profileOrder);
  const bars = Array.from(byUser, ([user, series]) => {
    const segments = order
      .filter(key => (series.get(key) ?? 0) > 0)
      .map(key => ({ key, value: series.get(key) as number }));
    return { label: user, segments, total: sum(segments) };
  });
  return bars.sort(
    (a, b) => b.total - a.total || a.label.localeCompare(b.label)
  );
}

/**
 * Seconds per series over all users (session runtimes, training jobs,
 * Spark core time, deployments): the input of "Time per runtime".
 */
export function seriesTotals(rows: readonly IUsageRow[]): {
  [key: string]: number;
} {
  const totals: { [key: string]: number } = {};
  for (const row of rows) {
    const key = seriesKeyOf(row);
    totals[key] = (totals[key] ?? 0) + chartSeconds(row);
  }
  return totals;
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

/**
 * Series of the rows, in legend (and colour) order: session runtimes in
 * `profileOrder`, then the other runtimes by name, then each kind's series
 * ("Training jobs", "Spark (core time)", "Deployments").
 */
export function seriesKeys(
  rows: readonly IUsageRow[],
  profileOrder: readonly string[] = []
): string[] {
  const runtimes = new Set(
    rows.filter(r => r.kind === 'session').map(r => r.profile)
  );
  const known = profileOrder.filter(p => runtimes.has(p));
  const others = Array.from(runtimes)
    .filter(p => !known.includes(p))
    .sort();
  const present = new Set(
    rows.filter(r => r.kind !== 'session').map(seriesKeyOf)
  );
  const kinds = KIND_SERIES.map(([, key]) => key).filter(key =>
    present.has(key)
  );
  // a kind this lab does not know yet still gets its series, last
  const unknown = Array.from(present)
    .filter(key => !kinds.includes(key))
    .sort();
  return [...known, ...others, ...kinds, ...unknown];
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
