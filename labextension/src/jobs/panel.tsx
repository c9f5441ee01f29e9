import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ResourceList } from '../components/resourceList';
import { IMe } from '../tokens';
import { JobDetail } from './detail';
import { JobForm } from './form';
import { jobTimes } from './logic';
import { JobsModel } from './model';
import {
  DeployButton,
  JobReason,
  StateChip,
  StopButton,
  TypeLabel
} from './parts';
import { jobTarget } from './spec';
import { IJob } from './tokens';

/** Props of {@link JobsPanel}. */
export interface IJobsPanelProps {
  model: JobsModel;
  /** The user (for the runtimes a job may use); `null` before it is known. */
  me: IMe | null;
  /**
   * Open a job in its own tab; also called with a job just submitted.
   * Without it, jobs only open in the list.
   */
  onOpen?: (id: string) => void;
  /** Propose a completed job's folder for deployment (shows Deploy). */
  onDeploy?: (folder: string) => void;
}

/**
 * Training jobs section: the user's jobs with their state and why, Stop,
 * the log and metrics of an opened job, and the submit form.
 */
export function JobsPanel({
  model,
  me,
  onOpen,
  onDeploy
}: IJobsPanelProps): JSX.Element {
  const [opened, setOpened] = React.useState<string | null>(null);
  const submit = React.useCallback(
    async (request: Parameters<JobsModel['submit']>[0]) => {
      const job = await model.submit(request);
      onOpen?.(job.id);
    },
    [model, onOpen]
  );
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
              onOpen={onOpen}
              onDeploy={onDeploy}
            />
          )}
        >
          <JobForm me={me} onSubmit={submit} draft={model.draft} />
        </ResourceList>
      )}
    </UseSignal>
  );
}

function JobItem({
  job,
  model,
  opened,
  onToggle,
  onOpen,
  onDeploy
}: {
  job: IJob;
  model: JobsModel;
  opened: boolean;
  onToggle: () => void;
  onOpen?: (id: string) => void;
  onDeploy?: (folder: string) => void;
}): JSX.Element {
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
        <span className="jp-labdeck-job-chips">
          <TypeLabel job={job} /> <StateChip job={job} />
        </span>
      </div>
      <div className="jp-labdeck-muted">
        {jobTarget(job)} · {job.spec.profile} · {jobTimes(job)}
      </div>
      <JobReason job={job} />
      <div className="jp-labdeck-job-actions">
        <StopButton job={job} onStop={id => model.stop(id)} />
        {onOpen && (
          <Button
            className="jp-mod-styled"
            small
            title={`Open ${job.name} in a tab: its log, metric and resource charts`}
            data-testid="labdeck-jobs-open"
            onClick={() => onOpen(job.id)}
          >
            Open in a tab
          </Button>
        )}
        <DeployButton job={job} onDeploy={onDeploy} />
      </div>
      {opened && <JobDetail api={model.api} job={job} />}
    </li>
  );
}
