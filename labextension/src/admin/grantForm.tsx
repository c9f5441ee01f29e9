import { Button, HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { humanDuration, profileDisplayName, profileLimits } from '../format';
import { IProfile, ITimeGrant, Quota } from '../tokens';
import { IGrantResult } from './api';

/** How long a grant lasts: one day (a one-off grant) or every day (the quota). */
export type GrantScope = 'today' | 'daily';

/** Props of {@link GrantForm}. */
export interface IGrantFormProps {
  profiles: IProfile[];
  /** Grant `hours` more per day on `profile` to `user`, until changed back. */
  grant: (
    user: string,
    profile: string,
    hours: number
  ) => Promise<IGrantResult>;
  /** Grant `hours` more on `profile` to `user` for one day (today by default). */
  grantOneDay: (
    user: string,
    profile: string,
    hours: number,
    note: string,
    date?: string
  ) => Promise<ITimeGrant>;
}

/** What the form shows after a submit. */
type Outcome =
  { kind: 'ok'; text: string; quota: string } | { kind: 'error'; text: string };

/**
 * "Grant time": some hours more on a runtime, for one day only (a one-off
 * grant, recorded with a note: the default), or every day (a per-user quota
 * override that stays until changed back).
 */
export function GrantForm({
  profiles,
  grant,
  grantOneDay
}: IGrantFormProps): JSX.Element {
  const [user, setUser] = React.useState('');
  const [profile, setProfile] = React.useState(() => defaultProfile(profiles));
  const [hours, setHours] = React.useState('1');
  const [scope, setScope] = React.useState<GrantScope>('today');
  const [note, setNote] = React.useState('');
  const [date, setDate] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [outcome, setOutcome] = React.useState<Outcome | null>(null);

  // Profiles may arrive after the first render (me not fetched yet).
  React.useEffect(() => {
    if (!profile && profiles.length > 0) {
      setProfile(defaultProfile(profiles));
    }
  }, [profile, profiles]);

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    const name = user.trim();
    if (!name || !profile) {
      setOutcome({ kind: 'error', text: 'Enter a user name and a runtime.' });
      return;
    }
    setBusy(true);
    setOutcome(null);
    const label = profileDisplayName(profiles, profile);
    try {
      if (scope === 'today') {
        const given = await grantOneDay(
          name,
          profile,
          Number(hours),
          note,
          date.trim() || undefined
        );
        setOutcome({
          kind: 'ok',
          text: oneDayText(given, label, !date.trim()),
          quota: ''
        });
        return;
      }
      const result = await grant(name, profile, Number(hours));
      const before = humanDuration(result.beforeSeconds);
      const text =
        result.afterSeconds === null
          ? `${name} now has no daily limit on ${label} (was ${before}).`
          : `${name} now has ${humanDuration(result.afterSeconds)} of ${label} per day (was ${before}).`;
      setOutcome({
        kind: 'ok',
        text,
        quota: describeQuota(result.quota, profiles)
      });
    } catch (reason) {
      setOutcome({
        kind: 'error',
        text: reason instanceof Error ? reason.message : String(reason)
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-labdeck-grant"
      onSubmit={event => void submit(event)}
      aria-label="Grant time"
    >
      <h2 className="jp-labdeck-report-heading">Grant time</h2>
      <p className="jp-labdeck-muted">
        {scope === 'today'
          ? 'Adds time on a runtime for one day only (today unless you pick a date), recorded with your note.'
          : "Raises the user's daily budget on a runtime. It stays raised until you change it back."}
      </p>
      <div className="jp-labdeck-form-row">
        <label>
          User
          <InputGroup
            type="text"
            value={user}
            placeholder="user name"
            required
            data-testid="labdeck-grant-user"
            onChange={event => setUser(event.target.value)}
          />
        </label>
        <label>
          Runtime
          <HTMLSelect
            value={profile}
            data-testid="labdeck-grant-profile"
            onChange={event => setProfile(event.target.value)}
            options={profiles.map(p => ({
              value: p.name,
              label: p.display_name || p.name
            }))}
          />
        </label>
        <label>
          For
          <HTMLSelect
            value={scope}
            data-testid="labdeck-grant-scope"
            onChange={event => setScope(event.target.value as GrantScope)}
            options={[
              { value: 'today', label: 'Today only' },
              { value: 'daily', label: 'Every day' }
            ]}
          />
        </label>
        <label>
          {scope === 'today' ? 'Extra hours' : 'Extra hours per day'}
          <InputGroup
            type="number"
            min="0.25"
            step="0.25"
            value={hours}
            required
            data-testid="labdeck-grant-hours"
            onChange={event => setHours(event.target.value)}
          />
        </label>
        {scope === 'today' && (
          <>
            <label>
              Note
              <InputGroup
                type="text"
                value={note}
                placeholder="why, e.g. exam week"
                maxLength={500}
                required
                data-testid="labdeck-grant-note"
                onChange={event => setNote(event.target.value)}
              />
            </label>
            <label>
              Date
              <InputGroup
                type="date"
                value={date}
                title="Leave empty for today"
                data-testid="labdeck-grant-date"
                onChange={event => setDate(event.target.value)}
              />
            </label>
          </>
        )}
        <Button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={busy}
          data-testid="labdeck-grant-submit"
        >
          {busy ? 'Granting…' : 'Grant'}
        </Button>
      </div>
      {outcome && (
        <div
          className={
            outcome.kind === 'ok' ? 'jp-labdeck-grant-ok' : 'jp-labdeck-error'
          }
          role={outcome.kind === 'ok' ? 'status' : 'alert'}
          data-testid="labdeck-grant-result"
          data-outcome={outcome.kind}
        >
          <p>{outcome.text}</p>
          {outcome.kind === 'ok' && outcome.quota && (
            <p className="jp-labdeck-muted">Quota now: {outcome.quota}</p>
          )}
        </div>
      )}
    </form>
  );
}

/** `alice has 2 h more of GPU today (granted by admin).` */
export function oneDayText(
  given: ITimeGrant,
  label: string,
  today: boolean
): string {
  const when = today ? 'today' : `on ${given.date}`;
  return `${given.user} has ${humanDuration(given.seconds)} more of ${label} ${when} (granted by ${given.granted_by}).`;
}

/** The first profile with GPUs (grants are mostly GPU time), else the first. */
function defaultProfile(profiles: IProfile[]): string {
  return (profiles.find(p => (p.gpus ?? 0) > 0) ?? profiles[0])?.name ?? '';
}

/** `CPU 8 h/day, 4 h/session · GPU 6 h/day` (profiles with limits). */
export function describeQuota(quota: Quota, profiles: IProfile[]): string {
  const names = [
    ...profiles.map(p => p.name),
    ...Object.keys(quota)
      .filter(
        // storage and Spark limits are not runtimes with time budgets
        k =>
          k !== 'storage_bytes' &&
          k !== 'spark' &&
          !profiles.some(p => p.name === k)
      )
      .sort()
  ];
  return names
    .map(name => {
      const limits = profileLimits(quota, name);
      if (!limits) {
        return null;
      }
      const parts = [
        limits.daily_seconds === null || limits.daily_seconds === undefined
          ? 'no daily limit'
          : `${humanDuration(limits.daily_seconds)}/day`,
        typeof limits.session_seconds === 'number'
          ? `${humanDuration(limits.session_seconds)}/session`
          : null
      ].filter(Boolean);
      return `${profileDisplayName(profiles, name)} ${parts.join(', ')}`;
    })
    .filter(Boolean)
    .join(' · ');
}
