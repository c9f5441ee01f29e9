/**
 * Calls of the admin API (`admin/usage`, `admin/users/<name>/quota`,
 * `admin/users/<name>/grants`).
 * Every function takes the request helpers as parameters so tests can
 * replace them.
 */

import { requestAPI, requestAPIResponse } from '../request';
import { ITimeGrant, IUsageQuery, IUsageReport, Quota } from '../tokens';
import { planGrant, planOneOffGrant } from './grant';
import { usageEndpoint } from './period';

/** `GET admin/usage` as JSON. */
export function fetchUsageReport(
  query: IUsageQuery,
  request: typeof requestAPI = requestAPI
): Promise<IUsageReport> {
  return request<IUsageReport>(usageEndpoint(query));
}

/** Path of a user's quota. */
function quotaEndpoint(user: string): string {
  return `admin/users/${encodeURIComponent(user)}/quota`;
}

/** `GET admin/users/<name>/quota`: the effective quota. */
export function fetchUserQuota(
  user: string,
  request: typeof requestAPI = requestAPI
): Promise<Quota> {
  return request<Quota>(quotaEndpoint(user));
}

/** `PUT admin/users/<name>/quota` with a partial quota; the new effective one. */
export function updateUserQuota(
  user: string,
  update: Quota,
  request: typeof requestAPI = requestAPI
): Promise<Quota> {
  return request<Quota>(quotaEndpoint(user), {
    method: 'PUT',
    body: JSON.stringify(update)
  });
}

/** Result of {@link grantTime}. */
export interface IGrantResult {
  beforeSeconds: number;
  /** Daily budget the server reports after the update. */
  afterSeconds: number | null;
  quota: Quota;
}

/**
 * Give `user` `hours` more per day on `profile`: read the effective quota,
 * then `PUT` its `daily_seconds` raised by that much.
 *
 * @throws {Error} (or {@link LabdeckRequestError}) with a readable message.
 */
export async function grantTime(
  user: string,
  profile: string,
  hours: number,
  request: typeof requestAPI = requestAPI
): Promise<IGrantResult> {
  const current = await fetchUserQuota(user, request);
  const plan = planGrant(current, user, profile, hours);
  const quota = await updateUserQuota(user, plan.update, request);
  const after = quota[profile];
  return {
    beforeSeconds: plan.beforeSeconds,
    afterSeconds:
      typeof after === 'object' && after !== null
        ? (after.daily_seconds ?? null)
        : null,
    quota
  };
}

/**
 * Give `user` `hours` more on `profile` for one day only (today unless
 * `date`, `YYYY-MM-DD`, says otherwise): `POST admin/users/<name>/grants`,
 * recorded with the admin's name and `note`.
 *
 * @throws {Error} (or {@link LabdeckRequestError}) with a readable message.
 */
export async function grantOneDay(
  user: string,
  profile: string,
  hours: number,
  note: string,
  date?: string,
  request: typeof requestAPI = requestAPI
): Promise<ITimeGrant> {
  const body = planOneOffGrant(profile, hours, note, date);
  return request<ITimeGrant>(`admin/users/${encodeURIComponent(user)}/grants`, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** File name of a `Content-Disposition: attachment; filename="..."`. */
export function attachmentName(
  header: string | null,
  fallback: string
): string {
  const match = header ? /filename="?([^";]+)"?/i.exec(header) : null;
  return match ? match[1] : fallback;
}

/**
 * Download the CSV report: fetch it with the lab's credentials, then save
 * it through a temporary `<a download>` on a Blob URL.
 */
export async function downloadUsageCsv(
  query: IUsageQuery,
  request: typeof requestAPIResponse = requestAPIResponse
): Promise<string> {
  const response = await request(usageEndpoint(query, 'csv'));
  const blob = await response.blob();
  const name = attachmentName(
    response.headers.get('Content-Disposition'),
    'labdeck-usage.csv'
  );
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.style.display = 'none';
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    // Revoke after the click has been handled.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
  return name;
}
