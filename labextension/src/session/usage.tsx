import * as React from 'react';

import { Meter } from '../components/meter';
import {
  formatClockTime,
  humanDuration,
  meterLevel,
  profileDisplayName,
  profileLimits,
  usedFraction
} from '../format';
import { IProfile, IProfileUsage, IUsageMap, Quota } from '../tokens';

/** Props of {@link UsageBars}. */
export interface IUsageBarsProps {
  usage?: IUsageMap;
  quota?: Quota;
  profiles?: IProfile[];
  /** Clock for "renews" times (epoch ms). */
  now: number;
}

/**
 * Usage of each profile in the current budget window:
 * `CPU today: 2 min used · 7 h 58 min left · renews 08:19`, with a bar
 * when the profile has a daily budget.
 */
export function UsageBars({
  usage,
  quota,
  profiles,
  now
}: IUsageBarsProps): JSX.Element | null {
  if (!usage) {
    return null;
  }
  const names = orderedProfiles(usage, profiles);
  if (names.length === 0) {
    return null;
  }
  return (
    <div className="jp-labdeck-usage" data-testid="labdeck-usage">
      {names.map(name => {
        const entry = usage[name];
        const limit = profileLimits(quota, name)?.daily_seconds ?? null;
        // today's budget counts what an admin granted for today
        const daily =
          limit === null ? null : limit + (entry.granted_seconds ?? 0);
        const fraction = usedFraction(entry.used_seconds, daily);
        return (
          <Meter
            key={name}
            testId={`labdeck-usage-${name}`}
            label={`${profileDisplayName(profiles, name)} today`}
            text={usageText(entry, daily, now)}
            fraction={fraction}
            level={meterLevel(fraction, 0.75, 1)}
          />
        );
      })}
    </div>
  );
}

/**
 * `2 min used · 7 h 58 min left · +2 h granted today · renews 08:19`
 * (parts when known).
 */
export function usageText(
  usage: IProfileUsage,
  dailySeconds: number | null,
  now: number
): string {
  const parts = [`${humanDuration(usage.used_seconds)} used`];
  if (dailySeconds === null || usage.remaining_seconds === null) {
    parts.push('no daily limit');
  } else {
    parts.push(`${humanDuration(usage.remaining_seconds)} left`);
    if (usage.granted_seconds) {
      parts.push(`+${humanDuration(usage.granted_seconds)} granted today`);
    }
    const renews = formatClockTime(usage.resets_at, now);
    if (renews) {
      parts.push(`renews ${renews}`);
    }
  }
  return parts.join(' · ');
}

/** Profiles with usage: in `me.profiles` order, then any others. */
function orderedProfiles(
  usage: IUsageMap,
  profiles: IProfile[] | undefined
): string[] {
  const known = (profiles ?? []).map(p => p.name).filter(n => n in usage);
  const others = Object.keys(usage)
    .filter(n => !known.includes(n))
    .sort();
  return [...known, ...others].filter(
    n => typeof usage[n]?.used_seconds === 'number'
  );
}
