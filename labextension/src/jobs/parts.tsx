import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError } from '../components/feedback';
import { StateChip as Chip, StateTone } from '../components/stateChip';
import { formatClockTime } from '../format';
import { useAction } from '../hooks';
import { isLive } from './logic';
import { isSparkBatch, jobFolder } from './spec';
import { IJob, JobState } from './tokens';

/**
 * Pieces of a job shown both in the sidebar's list and in the job's tab,
 * with the same test ids in both.
 */

/** How each state looks on its chip. */
const TONES: Record<JobState, StateTone> = {
  PENDING: 'waiting',
  RUNNING: 'active',
  STOPPING: 'waiting',
  COMPLETED: 'done',
  FAILED: 'failed',
  STOPPED: 'ended'
};

/** The state chip: live states outlined, outcomes filled. */
export function StateChip({ job }: { job: IJob }): JSX.Element {
  return (
    <Chip
      state={job.state}
      tone={TONES[job.state]}
      testId="labdeck-jobs-state"
    />
  );
}

/**
 * A label on jobs that labdeck runs for a Livy batch, saying so and on which
 * cluster; nothing on other jobs.
 */
export function TypeLabel({ job }: { job: IJob }): JSX.Element | null {
  if (!isSparkBatch(job)) {
    return null;
  }
  const batch = job.spark_batch;
  return (
    <span
      className="jp-labdeck-state-chip jp-mod-ended jp-labdeck-job-type"
      title={
        batch
          ? `Livy batch ${batch.batch_id} on cluster ${batch.cluster_id}`
          : 'A Livy batch'
      }
      data-testid="labdeck-jobs-type"
    >
      Spark batch
    </span>
  );
}

/** Why the job is in its state (a failure in the error colour). */
export function JobReason({ job }: { job: IJob }): JSX.Element | null {
  if (!job.state_reason) {
    return null;
  }
  return (
    <p
      className={
        job.state === 'FAILED' ? 'jp-labdeck-error' : 'jp-labdeck-muted'
      }
      data-testid="labdeck-jobs-reason"
    >
      {job.state_reason}
    </p>
  );
}

/** Whether the job can still be stopped. */
export function isStoppable(job: IJob): boolean {
  return job.state === 'PENDING' || job.state === 'RUNNING';
}

/** Stop, while the job can be stopped; a refusal is shown under it. */
export function StopButton({
  job,
  onStop
}: {
  job: IJob;
  onStop: (id: string) => Promise<unknown>;
}): JSX.Element | null {
  const { busy, error, run } = useAction<'stop'>();
  if (!isStoppable(job) && !error) {
    return null;
  }
  return (
    <>
      {isStoppable(job) && (
        <Button
          className="jp-mod-styled jp-mod-warn"
          small
          disabled={busy !== null}
          data-testid="labdeck-jobs-stop"
          onClick={() => void run('stop', () => onStop(job.id))}
        >
          {busy ? 'Stopping…' : 'Stop'}
        </Button>
      )}
      <ActionError error={error} testId="labdeck-jobs-stop-error" />
    </>
  );
}

/**
 * Deploy, on a job that completed: proposes its folder, where its script
 * may have saved the model, in the deploy form (the user can change it).
 */
export function DeployButton({
  job,
  onDeploy
}: {
  job: IJob;
  onDeploy?: (folder: string) => void;
}): JSX.Element | null {
  if (!onDeploy || job.state !== 'COMPLETED') {
    return null;
  }
  const folder = jobFolder(job);
  return (
    <Button
      className="jp-mod-styled"
      small
      title={`Deploy the model in ${folder} as an endpoint`}
      data-testid="labdeck-jobs-deploy"
      onClick={() => onDeploy(folder)}
    >
      Deploy
    </Button>
  );
}

/**
 * When a live job will be stopped, e.g. `stops at 14:00 (daily budget)`:
 * the earlier of its owner's budget deadline and its runtime limit, `null`
 * when it has neither or has ended.
 */
export function stopsAt(job: IJob, now: number): string | null {
  if (!isLive(job.state)) {
    return null;
  }
  // `daily_budget` reads `daily budget`; the service sets a deadline
  // only for the budget today, so that is what a missing reason means.
  const reason = job.deadline_reason?.replace(/_/g, ' ') || 'daily budget';
  const candidates: [string | null | undefined, string][] = [
    [job.deadline, reason],
    [job.runtime_deadline, 'runtime limit']
  ];
  let earliest: [number, string, string] | null = null;
  for (const [iso, why] of candidates) {
    const at = iso ? new Date(iso).getTime() : NaN;
    if (Number.isFinite(at) && (earliest === null || at < earliest[0])) {
      earliest = [at, iso as string, why];
    }
  }
  if (earliest === null) {
    return null;
  }
  return `stops at ${formatClockTime(earliest[1], now)} (${earliest[2]})`;
}
