/**
 * The report period as the date pickers hold it (local `YYYY-MM-DD`, both
 * days included) and as the API wants it (ISO instants, `until` exclusive).
 * Pure functions: the clock is a parameter.
 */

import type { IUsageQuery } from '../tokens';

/** Local dates of the period, both included, as `<input type="date">` values. */
export interface IPeriod {
  since: string;
  until: string;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** `YYYY-MM-DD` of a local date. */
export function toDateInput(date: Date): string {
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
}

/** Local midnight of a `YYYY-MM-DD` value, `null` when invalid. */
export function fromDateInput(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) {
    return null;
  }
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(year, month - 1, day);
  return date.getMonth() === month - 1 && date.getDate() === day ? date : null;
}

/** The last `days` days, today included. */
export function defaultPeriod(now: number, days: number): IPeriod {
  const today = new Date(now);
  const first = new Date(
    today.getFullYear(),
    today.getMonth(),
    today.getDate() - (days - 1)
  );
  return { since: toDateInput(first), until: toDateInput(today) };
}

/**
 * The API query of a period: from local midnight of `since` to local
 * midnight after `until`.
 *
 * @throws {Error} with a readable message when a date is invalid or the
 *   period is empty.
 */
export function periodQuery(period: IPeriod, group = ''): IUsageQuery {
  const since = fromDateInput(period.since);
  const last = fromDateInput(period.until);
  if (!since || !last) {
    throw new Error('Choose both dates of the period.');
  }
  if (last < since) {
    throw new Error('The first day must not be after the last day.');
  }
  const until = new Date(
    last.getFullYear(),
    last.getMonth(),
    last.getDate() + 1
  );
  const query: IUsageQuery = {
    since: since.toISOString(),
    until: until.toISOString()
  };
  const trimmed = group.trim();
  if (trimmed) {
    query.group = trimmed;
  }
  return query;
}

/** `admin/usage?since=...&until=...[&group=...][&format=csv]`. */
export function usageEndpoint(query: IUsageQuery, format?: 'csv'): string {
  const params = new URLSearchParams({
    since: query.since,
    until: query.until
  });
  if (query.group) {
    params.set('group', query.group);
  }
  if (format) {
    params.set('format', format);
  }
  return `admin/usage?${params.toString()}`;
}
