/**
 * One unit for a set of durations (a chart axis, a table column), chosen
 * by the largest so no value reads `0.0 h`: pure functions, no DOM.
 */

/** Units of {@link pickDurationUnit}, smallest first. */
export type DurationUnit = 's' | 'min' | 'h';

/** Seconds in one of each unit. */
export const SECONDS_PER_UNIT: Readonly<Record<DurationUnit, number>> = {
  s: 1,
  min: 60,
  h: 3600
};

/**
 * The unit that reads best for all these durations (seconds): hours from
 * 2 h on, minutes from 2 min on, else seconds. The threshold is two units
 * so the largest value never reads below `2` (`90 min`, not `1.5 h`).
 * Negative and non-finite values are ignored.
 */
export function pickDurationUnit(seconds: Iterable<number>): DurationUnit {
  let max = 0;
  for (const value of seconds) {
    if (Number.isFinite(value) && value > max) {
      max = value;
    }
  }
  if (max >= 2 * SECONDS_PER_UNIT.h) {
    return 'h';
  }
  return max >= 2 * SECONDS_PER_UNIT.min ? 'min' : 's';
}

/** `seconds` as a number of `unit` (negative or non-finite: 0). */
export function inUnit(seconds: number, unit: DurationUnit): number {
  return Number.isFinite(seconds) && seconds > 0
    ? seconds / SECONDS_PER_UNIT[unit]
    : 0;
}

/**
 * A number of some unit for people: one decimal below 100 without a
 * trailing `.0` (`1.5`, `12`, `0.3`), whole from 100 on (`250`).
 */
export function formatAmount(value: number): string {
  if (!Number.isFinite(value) || value <= 0) {
    return '0';
  }
  return String(Number(value.toFixed(value >= 100 ? 0 : 1)));
}

/** `seconds` in `unit`, with the unit: `12 min`, `1.5 h`, `45 s`. */
export function formatDurationIn(seconds: number, unit: DurationUnit): string {
  return `${formatAmount(inUnit(seconds, unit))} ${unit}`;
}
