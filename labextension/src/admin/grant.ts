/**
 * "Grant time", pure: for every day, the partial quota to `PUT` (raised from
 * the effective quota just read); for one day, the body of a one-off grant.
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

/** Fewest and most seconds one one-off grant may add (as the API checks). */
export const GRANT_MIN_SECONDS = 60;
export const GRANT_MAX_SECONDS = 24 * 3600;
export const GRANT_MAX_NOTE = 500;

/** Body of `POST admin/users/<name>/grants`. */
export interface IOneOffGrantBody {
  profile: string;
  seconds: number;
  note: string;
  /** `YYYY-MM-DD`; today when left out. */
  date?: string;
}

/**
 * The body of a one-off grant of `hours` on `profile` for one day (today
 * unless `date` is given).
 *
 * @throws {Error} with a readable message when the hours, note or date
 *   cannot be sent.
 */
export function planOneOffGrant(
  profile: string,
  hours: number,
  note: string,
  date?: string
): IOneOffGrantBody {
  const seconds = Math.round(hours * 3600);
  if (
    !Number.isFinite(hours) ||
    seconds < GRANT_MIN_SECONDS ||
    seconds > GRANT_MAX_SECONDS
  ) {
    throw new Error(
      'Extra hours for one day must be from 1 minute to 24 hours, e.g. 2 or 0.5.'
    );
  }
  const why = note.trim();
  if (!why || why.length > GRANT_MAX_NOTE) {
    throw new Error(
      `Say why in a note (at most ${GRANT_MAX_NOTE} characters), e.g. "exam week".`
    );
  }
  const body: IOneOffGrantBody = { profile, seconds, note: why };
  const day = (date ?? '').trim();
  if (day) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new Error('The date must look like 2026-11-25.');
    }
    body.date = day;
  }
  return body;
}
