import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError } from '../components/feedback';
import {
  formatClockTime,
  formatDeadlineReason,
  formatDuration,
  humanDuration,
  profileDisplayName,
  remainingMilliseconds
} from '../format';
import { useAction, useNow } from '../hooks';
import { IIdleInfo, IProfile, ISessionInfo } from '../tokens';

/** Props of {@link SessionRuntime}. */
export interface ISessionRuntimeProps {
  session: ISessionInfo | null | undefined;
  profiles?: IProfile[];
  /**
   * Stop the session (confirm, call the API); rejects with a readable
   * error. Without it no Stop button is shown.
   */
  onStop?: (session: ISessionInfo) => Promise<void>;
}

/**
 * The running session: runtime, GPUs, start, a live countdown with what
 * sets the deadline, and the Stop button.
 */
export function SessionRuntime({
  session,
  profiles,
  onStop
}: ISessionRuntimeProps): JSX.Element {
  if (session === undefined) {
    return (
      <p className="jp-labdeck-muted" data-testid="labdeck-session-info">
        No session data yet.
      </p>
    );
  }
  if (session === null) {
    return (
      <p className="jp-labdeck-muted" data-testid="labdeck-session-info">
        No session running.
      </p>
    );
  }
  return (
    <div className="jp-labdeck-runtime">
      <dl className="jp-labdeck-facts" data-testid="labdeck-session-info">
        <dt>Runtime</dt>
        <dd data-testid="labdeck-session-profile">
          {profileDisplayName(profiles, session.profile)}
        </dd>
        {session.gpus.length > 0 && (
          <>
            <dt>{session.gpus.length === 1 ? 'GPU' : 'GPUs'}</dt>
            <dd data-testid="labdeck-session-gpus">
              {session.gpus.join(', ')}
            </dd>
          </>
        )}
        <dt>Started</dt>
        <dd>{formatTime(session.started)}</dd>
        <dt>Time left</dt>
        <dd>
          <Countdown session={session} />
        </dd>
        {session.idle && (
          <>
            <dt>Idle stop</dt>
            <dd>
              <IdleLine idle={session.idle} />
            </dd>
          </>
        )}
      </dl>
      {onStop && <StopButton session={session} onStop={onStop} />}
    </div>
  );
}

/** `01:02:03` ticking every second, and what sets the deadline. */
function Countdown({ session }: { session: ISessionInfo }): JSX.Element {
  const now = useNow(session.deadline !== null);
  const remaining = remainingMilliseconds(session.deadline, now);
  if (remaining === null) {
    return <span data-testid="labdeck-session-countdown">no time limit</span>;
  }
  const reason = formatDeadlineReason(session.deadline_reason);
  const at = formatClockTime(session.deadline, now);
  return (
    <>
      <span
        className="jp-labdeck-countdown"
        data-testid="labdeck-session-countdown"
      >
        {remaining > 0 ? formatDuration(remaining) : 'time is up'}
      </span>
      <span
        className="jp-labdeck-muted jp-labdeck-deadline"
        data-testid="labdeck-session-limit"
      >
        {[at && `stops at ${at}`, reason].filter(Boolean).join(' · ')}
      </span>
    </>
  );
}

/**
 * The idle timeout: `after 1 h without activity`, and once the control
 * plane has warned, `idle for 12 min, stops at 14:05 unless used`.
 */
export function IdleLine({ idle }: { idle: IIdleInfo }): JSX.Element {
  const warned = idle.warning !== null;
  const now = useNow(warned);
  if (!warned) {
    return (
      <span className="jp-labdeck-muted" data-testid="labdeck-session-idle">
        after {humanDuration(idle.idle_seconds)} without activity
      </span>
    );
  }
  const since = Date.parse(idle.last_activity ?? '');
  const idleFor = Number.isNaN(since)
    ? ''
    : `idle for ${humanDuration((now - since) / 1000)}, `;
  const at = formatClockTime(idle.stops_at, now) ?? idle.stops_at;
  return (
    <span
      className="jp-labdeck-idle jp-mod-warn"
      role="status"
      title={idle.warning ?? undefined}
      data-testid="labdeck-session-idle"
    >
      {`${idleFor}stops at ${at} unless used`}
    </span>
  );
}

/** Stop button; errors from `onStop` are shown under it. */
function StopButton({
  session,
  onStop
}: {
  session: ISessionInfo;
  onStop: (session: ISessionInfo) => Promise<void>;
}): JSX.Element {
  const { busy, error, run } = useAction<'stop'>();
  return (
    <div className="jp-labdeck-actions">
      <Button
        className="jp-mod-styled jp-mod-warn jp-labdeck-stop"
        minimal={false}
        small
        disabled={busy !== null}
        data-testid="labdeck-stop-session"
        onClick={() => void run('stop', () => onStop(session))}
      >
        {busy ? 'Stopping…' : 'Stop session'}
      </Button>
      <ActionError error={error} testId="labdeck-stop-error" />
    </div>
  );
}

/** Local time of an ISO 8601 timestamp, or the raw text if unparsable. */
function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
