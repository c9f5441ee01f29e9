/**
 * When to warn that a session is about to stop: pure functions of the time
 * left, the thresholds and the thresholds already warned about. No clock,
 * storage or notification here (see `notifier.ts` for those).
 */

import { formatDeadlineReason, humanDuration } from './format';
import type { DeadlineReason } from './tokens';

/**
 * A threshold that was warned about is armed again only once the time left
 * is this much above it (the deadline moved later, e.g. an admin granted
 * time), so small clock or deadline jitter never repeats a warning.
 */
export const REARM_MARGIN_SECONDS = 60;

/**
 * A warning is "live" when it fires within this many seconds after its
 * threshold was crossed; it then announces the threshold ("15 minutes").
 * Later (the lab opened with less time left) it announces the time left.
 */
export const LIVE_SLACK_SECONDS = 5;

/** Positive whole seconds, without duplicates, largest first. */
export function normalizeThresholds(
  thresholds: readonly number[] | null | undefined
): number[] {
  const valid = (thresholds ?? [])
    .filter(t => Number.isFinite(t) && t > 0)
    .map(t => Math.round(t));
  return Array.from(new Set(valid)).sort((a, b) => b - a);
}

/** Result of {@link evaluateThresholds}. */
export interface IThresholdDecision {
  /** The threshold to warn about now, or `null`. */
  notify: number | null;
  /** Thresholds warned about (or skipped) after this evaluation. */
  fired: Set<number>;
}

/**
 * Which threshold to warn about, given the time left.
 *
 * A threshold is crossed when `remainingSeconds <= threshold`. Among the
 * crossed thresholds not warned about yet, only the smallest one is
 * announced and all of them are marked as fired: one warning, never a
 * burst, when several are crossed at once (the lab opened late, the tab
 * slept, the deadline moved earlier). Once the deadline has passed
 * (`remainingSeconds <= 0`) nothing is announced: the session has ended.
 * A fired threshold is armed again when the time left grows back above it
 * by {@link REARM_MARGIN_SECONDS}.
 *
 * @param remainingSeconds - Time left until the deadline.
 * @param thresholds - Seconds before the deadline to warn at.
 * @param fired - Thresholds already warned about for this session.
 */
export function evaluateThresholds(
  remainingSeconds: number,
  thresholds: readonly number[],
  fired: ReadonlySet<number>
): IThresholdDecision {
  const next = new Set<number>();
  for (const t of fired) {
    if (remainingSeconds <= t + REARM_MARGIN_SECONDS) {
      next.add(t);
    }
  }
  const crossed = normalizeThresholds(thresholds).filter(
    t => remainingSeconds <= t && !next.has(t)
  );
  if (crossed.length === 0) {
    return { notify: null, fired: next };
  }
  for (const t of crossed) {
    next.add(t);
  }
  const smallest = crossed[crossed.length - 1];
  return { notify: remainingSeconds > 0 ? smallest : null, fired: next };
}

/**
 * Whether the countdown is in its last stretch: at or below the smallest
 * threshold (the status bar then turns to a warning style).
 */
export function isFinalStretch(
  remainingSeconds: number | null,
  thresholds: readonly number[] | null | undefined
): boolean {
  const list = normalizeThresholds(thresholds);
  if (remainingSeconds === null || list.length === 0) {
    return false;
  }
  return remainingSeconds <= list[list.length - 1];
}

/**
 * The duration a warning announces: the threshold when the warning is live,
 * otherwise the time really left (whole minutes from two minutes on,
 * rounded up so "5 minutes" is not read as 4:59).
 */
export function announcedSeconds(
  threshold: number,
  remainingSeconds: number
): number {
  if (remainingSeconds >= threshold - LIVE_SLACK_SECONDS) {
    return threshold;
  }
  const left = Math.max(0, Math.ceil(remainingSeconds));
  return left >= 120 ? Math.ceil(left / 60) * 60 : left;
}

/** `(session limit)`-style suffix, empty without a known reason. */
function reasonSuffix(reason: DeadlineReason | null | undefined): string {
  const text = formatDeadlineReason(reason);
  return text ? ` (${text})` : '';
}

/**
 * The warning sentence: `Your GPU session stops in 15 minutes (session
 * limit). Save your work: files are kept.`
 */
export function warningMessage(
  profileName: string,
  seconds: number,
  reason: DeadlineReason | null | undefined
): string {
  return (
    `Your ${profileName} session stops in ${humanDuration(seconds, 'long')}` +
    `${reasonSuffix(reason)}. Save your work: files are kept.`
  );
}

/** The sentence once the deadline has passed. */
export function endedMessage(
  profileName: string,
  reason: DeadlineReason | null | undefined
): string {
  const why = formatDeadlineReason(reason);
  return (
    `Your session has ended (${profileName}${why ? `, ${why}` : ''}). ` +
    'Your files are kept.'
  );
}

/** sessionStorage key of a fired threshold of a session. */
export function firedKey(
  sessionId: number | string,
  threshold: number
): string {
  return `labdeck:warned:${sessionId}:${threshold}`;
}

/** sessionStorage key of the "session has ended" notice of a session. */
export function endedKey(sessionId: number | string): string {
  return `labdeck:ended:${sessionId}`;
}
