import * as React from 'react';

import { formatAmount, inUnit, pickDurationUnit } from '../durationUnit';
import { humanDuration, profileDisplayName } from '../format';
import { IProfile, ITimeGrant, IUsageRow } from '../tokens';
import { kindLabel } from './kinds';

/** Columns of the table (the total line spans the first four). */
const COLUMNS = 9;

/**
 * The report rows: one per user, kind (session, training job, Spark
 * cluster, deployment) and runtime, with a total line. Times are in the
 * unit that suits the longest row (`s`, `min` or `h`); core time, which
 * only Spark clusters have, in a unit of its own. One-off grants show on
 * the session row of their runtime, each one's note in the cell's tooltip.
 */
export function UsageTable({
  rows,
  profiles,
  grants = []
}: {
  rows: IUsageRow[];
  profiles: IProfile[];
  grants?: ITimeGrant[];
}): JSX.Element {
  const total = rows.reduce(
    (sum, row) => ({
      sessions: sum.sessions + row.sessions,
      seconds: sum.seconds + row.seconds,
      gpu: sum.gpu + row.gpu_seconds,
      core: sum.core + row.core_seconds,
      granted: sum.granted + (row.granted_seconds ?? 0)
    }),
    { sessions: 0, seconds: 0, gpu: 0, core: 0, granted: 0 }
  );
  // By the rows, so a class of short sessions reads in minutes even when
  // its total runs to hours.
  const unit = pickDurationUnit(
    rows.map(r => Math.max(r.seconds, r.gpu_seconds))
  );
  const coreUnit = pickDurationUnit(rows.map(r => r.core_seconds));
  const hasCores = (row: IUsageRow): boolean =>
    row.kind === 'cluster' || row.core_seconds > 0;
  const time = (seconds: number): string => formatAmount(inUnit(seconds, unit));
  const coreTime = (seconds: number): string =>
    formatAmount(inUnit(seconds, coreUnit));
  const granted = (seconds: number | undefined): string =>
    seconds ? `+${humanDuration(seconds)}` : '–';
  return (
    <table className="jp-labdeck-table" data-testid="labdeck-usage-table">
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Groups</th>
          <th scope="col" data-testid="labdeck-usage-col-kind">
            Kind
          </th>
          <th scope="col">Runtime</th>
          <th scope="col" className="jp-mod-number">
            Runs
          </th>
          <th scope="col" className="jp-mod-number">
            {`Time (${unit})`}
          </th>
          <th scope="col" className="jp-mod-number">
            {`GPU time (${unit})`}
          </th>
          <th
            scope="col"
            className="jp-mod-number"
            title="Run time × cores (Spark clusters)"
            data-testid="labdeck-usage-col-core-time"
          >
            {`Core time (core·${coreUnit})`}
          </th>
          <th
            scope="col"
            className="jp-mod-number"
            title="One-off grants of extra time for a day"
            data-testid="labdeck-usage-col-granted"
          >
            Granted
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={COLUMNS} className="jp-labdeck-muted">
              No usage in this period.
            </td>
          </tr>
        ) : (
          rows.map(row => (
            <tr
              key={`${row.user}\u0000${row.kind}\u0000${row.profile}`}
              data-kind={row.kind}
            >
              <td>{row.user}</td>
              <td>{row.groups.join(', ')}</td>
              <td>{kindLabel(row.kind)}</td>
              <td>
                {row.kind === 'cluster'
                  ? '–'
                  : profileDisplayName(profiles, row.profile)}
              </td>
              <td className="jp-mod-number">{row.sessions}</td>
              <td className="jp-mod-number">{time(row.seconds)}</td>
              <td className="jp-mod-number">{time(row.gpu_seconds)}</td>
              <td className="jp-mod-number">
                {hasCores(row) ? coreTime(row.core_seconds) : '–'}
              </td>
              <td
                className="jp-mod-number"
                title={grantNotes(grants, row) || undefined}
                data-testid="labdeck-usage-granted"
              >
                {granted(row.granted_seconds)}
              </td>
            </tr>
          ))
        )}
      </tbody>
      {rows.length > 0 && (
        <tfoot>
          <tr>
            <th scope="row" colSpan={4}>
              Total
            </th>
            <td className="jp-mod-number">{total.sessions}</td>
            <td className="jp-mod-number">{time(total.seconds)}</td>
            <td className="jp-mod-number">{time(total.gpu)}</td>
            <td className="jp-mod-number">{coreTime(total.core)}</td>
            <td className="jp-mod-number">{granted(total.granted)}</td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

/** `2026-11-25: 2 h by admin (exam week)`, one line per grant of the row. */
export function grantNotes(grants: ITimeGrant[], row: IUsageRow): string {
  if (!row.granted_seconds) {
    return '';
  }
  return grants
    .filter(g => g.user === row.user && g.profile === row.profile)
    .map(
      g =>
        `${g.date}: ${humanDuration(g.seconds)} by ${g.granted_by} (${g.note})`
    )
    .join('\n');
}
