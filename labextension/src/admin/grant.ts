/**
 * "Grant time": raise a user's daily budget on one profile. Pure: computes
 * the partial quota to `PUT` from the effective quota just read.
 */

import { profileLimits } from '../format';
import type { Quota } from '../tokens';

/** The update to send, and the daily budgets before and after. */
export interface IGrantPlan {
  update: Quota;
  beforeSeconds: number;
  afterSeconds: number;
}

/**
 * Plan a grant of `hours` more per day on `profile`.
 *
 * @throws {Error} with a readable message when the hours are not a
 *   positive number or the profile has no daily limit (nothing to grant).
 */
export function planGrant(
  quota: Quota,
  user: string,
  profile: string,
  hours: number
): IGrantPlan {
  if (!Number.isFinite(hours) || hours <= 0) {
    throw new Error('Extra hours must be a positive number, e.g. 2 or 0.5.');
  }
  const daily = profileLimits(quota, profile)?.daily_seconds;
  if (daily === null || daily === undefined) {
    throw new Error(
      `${user} has no daily limit on ${profile}: there is no time to grant.`
    );
  }
  const afterSeconds = daily + Math.round(hours * 3600);
  return {
    update: { [profile]: { daily_seconds: afterSeconds } },
    beforeSeconds: daily,
    afterSeconds
  };
}
