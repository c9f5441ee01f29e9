import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorAlert, Loading } from '../components/feedback';
import { LabdeckRequestError } from '../request';
import { IMe, IQueueInfo, ISessionInfo } from '../tokens';
import { SessionRuntime } from './runtime';
import { StorageBar } from './storage';
import { UsageBars } from './usage';

/** Props of {@link SessionPanel}. */
export interface ISessionPanelProps {
  me: IMe | null;
  error: LabdeckRequestError | null;
  loading: boolean;
  /** Stop the running session (shows the Stop button when given). */
  onStop?: (session: ISessionInfo) => Promise<void>;
  /** Open the usage report (admins; shows the button when given). */
  onOpenUsageReport?: () => void;
}

/**
 * Session section: who the user is, the running session (or their place
 * in the GPU queue), usage per profile and storage.
 */
export function SessionPanel({
  me,
  error,
  loading,
  onStop,
  onOpenUsageReport
}: ISessionPanelProps): JSX.Element {
  return (
    <div className="jp-labdeck-session">
      {error && <ErrorAlert error={error} testId="labdeck-error" />}
      {me === null ? (
        loading && <Loading testId="labdeck-loading" />
      ) : (
        <>
          <UserSummary
            me={me}
            onOpenUsageReport={me.admin ? onOpenUsageReport : undefined}
          />
          {me.queue && <QueueInfo queue={me.queue} />}
          <SessionRuntime
            session={me.session}
            profiles={me.profiles}
            onStop={onStop}
          />
          <UsageBars
            usage={me.usage}
            quota={me.quota}
            profiles={me.profiles}
            now={Date.now()}
          />
          {me.storage && <StorageBar storage={me.storage} />}
        </>
      )}
    </div>
  );
}

/** User name, admin badge, groups and, for admins, the usage report. */
export function UserSummary({
  me,
  onOpenUsageReport
}: {
  me: IMe;
  onOpenUsageReport?: () => void;
}): JSX.Element {
  return (
    <div className="jp-labdeck-user">
      <div className="jp-labdeck-user-line">
        <span className="jp-labdeck-user-name" data-testid="labdeck-user-name">
          {me.name}
        </span>
        {me.admin && (
          <span className="jp-labdeck-badge" data-testid="labdeck-admin-badge">
            admin
          </span>
        )}
      </div>
      {me.groups.length > 0 && (
        <ul className="jp-labdeck-groups" data-testid="labdeck-user-groups">
          {me.groups.map(group => (
            <li key={group} className="jp-labdeck-group">
              {group}
            </li>
          ))}
        </ul>
      )}
      {onOpenUsageReport && (
        <Button
          className="jp-mod-styled jp-mod-reject jp-labdeck-open-report"
          small
          data-testid="labdeck-open-usage-report"
          onClick={onOpenUsageReport}
        >
          Open usage report
        </Button>
      )}
    </div>
  );
}

/** `Waiting for a GPU: number 2 in the queue`. */
export function QueueInfo({ queue }: { queue: IQueueInfo }): JSX.Element {
  return (
    <p className="jp-labdeck-queue" role="status" data-testid="labdeck-queue">
      Waiting for a GPU: number {queue.position} in the queue
    </p>
  );
}
