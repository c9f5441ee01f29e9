/**
 * How the usage report shows each kind of ledger entry: pure functions,
 * no DOM. Lab sessions are split by runtime; training jobs, Spark clusters
 * and deployments are one series each, and a Spark cluster's figure is its
 * core time (run time × cores), not its run time.
 */

import { profileDisplayName } from '../format';
import type { IProfile, IUsageRow, UsageKind } from '../tokens';

/** Readable name of a kind, for the table. */
export const KIND_LABELS: Readonly<Record<UsageKind, string>> = {
  session: 'Session',
  job: 'Training job',
  cluster: 'Spark cluster',
  deployment: 'Deployment'
};

/**
 * Chart series of the kinds that are not split by runtime, in legend order
 * (after the session runtimes). Keys have a `:`, which profile names do not,
 * so they never meet a runtime's key.
 */
export const KIND_SERIES: ReadonlyArray<[UsageKind, string, string]> = [
  ['job', 'kind:job', 'Training jobs'],
  ['cluster', 'kind:cluster', 'Spark (core time)'],
  ['deployment', 'kind:deployment', 'Deployments']
];

/** Name of a kind in the table (the kind itself when unknown). */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind as UsageKind] ?? kind;
}

/** Chart series of a row: its runtime for a session, else its kind's. */
export function seriesKeyOf(row: IUsageRow): string {
  if (row.kind === 'session') {
    return row.profile;
  }
  return KIND_SERIES.find(([kind]) => kind === row.kind)?.[1] ?? row.kind;
}

/** The time a row counts for in the charts: core time for Spark clusters. */
export function chartSeconds(row: IUsageRow): number {
  return row.kind === 'cluster' ? row.core_seconds : row.seconds;
}

/** Name of a series key in legends and bar labels. */
export function seriesLabel(
  profiles: readonly IProfile[],
  key: string
): string {
  if (key === 'total') {
    return 'Total';
  }
  const kind = KIND_SERIES.find(([, seriesKey]) => seriesKey === key);
  return kind ? kind[2] : profileDisplayName(profiles, key);
}
