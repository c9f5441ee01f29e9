import { MainAreaWidget } from '@jupyterlab/apputils';
import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ErrorAlert, Loading } from '../components/feedback';
import { useAction } from '../hooks';
import { resourceTab, TabContent } from '../tabs';
import { JobDetail } from './detail';
import { jobTimes } from './logic';
import { JobsModel } from './model';
import {
  DeployButton,
  JobReason,
  StateChip,
  StopButton,
  stopsAt,
  TypeLabel
} from './parts';
import {
  executedNotebookPath,
  isNotebookJob,
  isSparkBatch,
  jobTarget,
  rerunRequest
} from './spec';
import { IJob, JOB_VIEW_NAMESPACE } from './tokens';

/** Height of the charts in a job's tab, px. */
const VIEW_CHART_HEIGHT = 200;

/** Props of {@link JobView}. */
export interface IJobViewProps {
  /** The jobs list: the job's state comes from its polls. */
  model: JobsModel;
  jobId: string;
  /** Open a job's tab (the new job after "Run again"). */
  onOpen: (id: string) => void;
  /** Open a file of the home folder in the lab (the executed notebook). */
  onOpenFile: (path: string) => void;
  /** Propose a completed job's folder for deployment (shows Deploy). */
  onDeploy?: (folder: string) => void;
}

/**
 * One job in the main area: its state and why, when it will be stopped,
 * Stop, Run again, its executed notebook, then the live log tail, metric
 * and resource charts of {@link JobDetail}.
 */
export function JobView(props: IJobViewProps): JSX.Element {
  const { model } = props;
  return (
    <UseSignal signal={model.changed} initialSender={model}>
      {() => <JobViewBody {...props} />}
    </UseSignal>
  );
}

function JobViewBody({
  model,
  jobId,
  onOpen,
  onOpenFile,
  onDeploy
}: IJobViewProps): JSX.Element {
  const job = model.job(jobId);
  if (!job) {
    return (
      <div className="jp-labdeck-job-view" data-testid="labdeck-job-view">
        {model.error && (
          <ErrorAlert error={model.error} testId="labdeck-job-view-error" />
        )}
        {model.jobs === null ? (
          <Loading testId="labdeck-job-view-loading" />
        ) : (
          <p className="jp-labdeck-muted" data-testid="labdeck-job-view-gone">
            Job {jobId} is not in your list any more: it was removed.
          </p>
        )}
      </div>
    );
  }
  const stops = stopsAt(job, Date.now());
  const gpus = job.gpus ?? [];
  return (
    <div
      className="jp-labdeck-job-view"
      data-testid="labdeck-job-view"
      data-job-id={job.id}
      data-state={job.state}
    >
      <header className="jp-labdeck-job-view-header">
        <h2 className="jp-labdeck-report-title">{job.name}</h2>
        <TypeLabel job={job} />
        <StateChip job={job} />
      </header>
      <p className="jp-labdeck-muted">
        {jobTarget(job)} · {job.spec.profile}
        {gpus.length > 0 && (
          <span data-testid="labdeck-job-view-gpus">
            {` · GPU ${gpus.join(', ')}`}
          </span>
        )}
        {` · ${jobTimes(job)}`}
        {stops && (
          <span
            className="jp-labdeck-job-deadline"
            data-testid="labdeck-job-view-deadline"
          >
            {` · ${stops}`}
          </span>
        )}
      </p>
      {model.error && (
        <ErrorAlert error={model.error} testId="labdeck-job-view-error" />
      )}
      <JobReason job={job} />
      <JobActions
        job={job}
        model={model}
        onOpen={onOpen}
        onOpenFile={onOpenFile}
        onDeploy={onDeploy}
      />
      <JobDetail
        key={job.id}
        api={model.api}
        job={job}
        chartHeight={VIEW_CHART_HEIGHT}
      />
    </div>
  );
}

function JobActions({
  job,
  model,
  onOpen,
  onOpenFile,
  onDeploy
}: {
  job: IJob;
  model: JobsModel;
  onOpen: (id: string) => void;
  onOpenFile: (path: string) => void;
  onDeploy?: (folder: string) => void;
}): JSX.Element {
  const { busy, error, run } = useAction<'rerun'>();
  const { request, droppedEnv } = rerunRequest(job);
  const rerun = (): Promise<boolean> =>
    run('rerun', async () => {
      const created = await model.submit(request);
      onOpen(created.id);
    });
  return (
    <>
      <div className="jp-labdeck-job-actions">
        <StopButton job={job} onStop={id => model.stop(id)} />
        {/* a batch is submitted again through its cluster's Livy API */}
        {!isSparkBatch(job) && (
          <Button
            className="jp-mod-styled"
            small
            disabled={busy !== null}
            title="Submit a new job with the same settings"
            data-testid="labdeck-job-view-rerun"
            onClick={() => void rerun()}
          >
            {busy ? 'Submitting…' : 'Run again'}
          </Button>
        )}
        {isNotebookJob(job) && job.started && (
          <Button
            className="jp-mod-styled"
            small
            title="Open the copy of the notebook with this run's outputs"
            data-testid="labdeck-job-view-executed"
            onClick={() => onOpenFile(executedNotebookPath(job))}
          >
            Open executed notebook
          </Button>
        )}
        <DeployButton job={job} onDeploy={onDeploy} />
      </div>
      {droppedEnv.length > 0 && !isSparkBatch(job) && (
        <p className="jp-labdeck-muted" data-testid="labdeck-job-view-env">
          Run again starts the new job without the environment variables{' '}
          {droppedEnv.join(', ')}: their values are never sent back to the
          browser.
        </p>
      )}
      <ActionError error={error} testId="labdeck-job-view-rerun-error" />
    </>
  );
}

/** The content of a job's tab. */
export class JobViewWidget extends TabContent<IJobViewProps> {
  constructor(options: IJobViewProps) {
    super(JobView, options);
  }

  /** The job shown. */
  get jobId(): string {
    return this.props.jobId;
  }
}

/** The DOM id of a job's tab. */
export function jobViewId(jobId: string): string {
  return `${JOB_VIEW_NAMESPACE}-${jobId}`;
}

/** A job's tab for the main area, named after the job. */
export function createJobView(
  options: IJobViewProps
): MainAreaWidget<JobViewWidget> {
  const { model, jobId } = options;
  const widget = resourceTab(new JobViewWidget(options), {
    id: jobViewId(jobId),
    label: model.job(jobId)?.name ?? jobId,
    caption: `Training job ${jobId}`
  });
  // The name is known once the list arrives (a tab restored on reload).
  // Set on the tab's own title: a change of the content's title would
  // replace the tab's dataset, where the shell keeps the widget's id.
  const rename = (): void => {
    const name = model.job(jobId)?.name;
    if (name && name !== widget.title.label) {
      widget.title.label = name;
    }
  };
  model.changed.connect(rename);
  widget.disposed.connect(() => model.changed.disconnect(rename));
  return widget;
}
