import * as React from 'react';

import { formatAmount, inUnit, pickDurationUnit } from '../durationUnit';
import { profileDisplayName } from '../format';
import { IProfile, IUsageRow } from '../tokens';

/**
 * The report rows: one per user and runtime, with a total line; times in
 * the unit that suits the longest row (`s`, `min` or `h`).
 */
export function UsageTable({
  rows,
  profiles
}: {
  rows: IUsageRow[];
  profiles: IProfile[];
}): JSX.Element {
  const total = rows.reduce(
    (sum, row) => ({
      sessions: sum.sessions + row.sessions,
      seconds: sum.seconds + row.seconds,
      gpu: sum.gpu + row.gpu_seconds
    }),
    { sessions: 0, seconds: 0, gpu: 0 }
  );
  // By the rows, so a class of short sessions reads in minutes even when
  // its total runs to hours.
  const unit = pickDurationUnit(
    rows.map(r => Math.max(r.seconds, r.gpu_seconds))
  );
  const time = (seconds: number): string => formatAmount(inUnit(seconds, unit));
  return (
    <table className="jp-labdeck-table" data-testid="labdeck-usage-table">
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Groups</th>
          <th scope="col">Runtime</th>
          <th scope="col" className="jp-mod-number">
            Sessions
          </th>
          <th scope="col" className="jp-mod-number">
            {`Time (${unit})`}
          </th>
          <th scope="col" className="jp-mod-number">
            {`GPU time (${unit})`}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={6} className="jp-labdeck-muted">
              No sessions in this period.
            </td>
          </tr>
        ) : (
          rows.map(row => (
            <tr key={`${row.user}\u0000${row.profile}`}>
              <td>{row.user}</td>
              <td>{row.groups.join(', ')}</td>
              <td>{profileDisplayName(profiles, row.profile)}</td>
              <td className="jp-mod-number">{row.sessions}</td>
              <td className="jp-mod-number">{time(row.seconds)}</td>
              <td className="jp-mod-number">{time(row.gpu_seconds)}</td>
            </tr>
          ))
        )}
      </tbody>
      {rows.length > 0 && (
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td className="jp-mod-number">{total.sessions}</td>
            <td className="jp-mod-number">{time(total.seconds)}</td>
            <td className="jp-mod-number">{time(total.gpu)}</td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}
