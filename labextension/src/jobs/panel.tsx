import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError } from '../components/feedback';
import { ResourceList } from '../components/resourceList';
import { useAction } from '../hooks';
import { IMe } from '../tokens';
import { JobDetail } from './detail';
import { JobForm } from './form';
import { jobTimes, stateLabel } from './logic';
import { JobsModel } from './model';
import { IJob } from './tokens';

/** Props of {@link JobsPanel}. */
export interface IJobsPanelProps {
  model: JobsModel;
  /** The user (for the runtimes a job may use); `null` before it is known. */
  me: IMe | null;
}

/**
 * Training jobs section: the user's jobs with their state and why, Stop,
 * the log and metrics of an opened job, and the submit form.
 */
export function JobsPanel({ model, me }: IJobsPanelProps): JSX.Element {
  const [opened, setOpened] = React.useState<string | null>(null);
  return (
    <UseSignal signal={model.changed} initialSender={model}>
      {() => (
        <ResourceList
          testIdPrefix="labdeck-jobs"
          className="jp-labdeck-jobs"
          listClassName="jp-labdeck-jobs-list"
          error={model.error}
          loading={model.loading}
          items={model.jobs}
          empty="No jobs yet. Submit a script below: it keeps running after you close the browser."
          itemKey={job => job.id}
          renderItem={job => (
            <JobItem
              job={job}
              model={model}
              opened={job.id === opened}
              onToggle={() => setOpened(job.id === opened ? null : job.id)}
            />
          )}
        >
          <JobForm me={me} onSubmit={request => model.submit(request)} />
        </ResourceList>
      )}
    </UseSignal>
  );
}

function JobItem({
  job,
  model,
  opened,
  onToggle
}: {
  job: IJob;
  model: JobsModel;
  opened: boolean;
  onToggle: () => void;
}): JSX.Element {
  const { busy, error, run } = useAction<'stop'>();
  const stoppable = job.state === 'PENDING' || job.state === 'RUNNING';
  return (
    <li
      className="jp-labdeck-job"
      data-testid="labdeck-jobs-job"
      data-job-id={job.id}
      data-state={job.state}
    >
      <div className="jp-labdeck-job-line">
        <button
          className="jp-labdeck-job-name"
          aria-expanded={opened}
          title={`${opened ? 'Hide' : 'Show'} the log and metrics of ${job.id}`}
          data-testid="labdeck-jobs-toggle"
          onClick={onToggle}
        >
          {job.name}
        </button>
        <span
          className={`jp-labdeck-job-state jp-mod-${job.state.toLowerCase()}`}
          data-testid="labdeck-jobs-state"
        >
          {stateLabel(job.state)}
        </span>
      </div>
      <div className="jp-labdeck-muted">
        {job.spec.script} · {job.spec.profile} · {jobTimes(job)}
      </div>
      {job.state_reason && (
        <p
          className={
            job.state === 'FAILED' ? 'jp-labdeck-error' : 'jp-labdeck-muted'
          }
          data-testid="labdeck-jobs-reason"
        >
          {job.state_reason}
        </p>
      )}
      {stoppable && (
        <Button
          className="jp-mod-styled jp-mod-warn"
          small
          disabled={busy !== null}
          data-testid="labdeck-jobs-stop"
          onClick={() => void run('stop', () => model.stop(job.id))}
        >
          {busy ? 'Stopping…' : 'Stop'}
        </Button>
      )}
      <ActionError error={error} testId="labdeck-jobs-stop-error" />
      {opened && <JobDetail api={model.api} job={job} />}
    </li>
  );
}
