/**
 * What a job runs: the request for a file picked in the file browser, the
 * request that runs a job again, and where a job leaves its files. Pure
 * (only type imports and constants), like `logic.ts`.
 */

import {
  EXECUTED_NOTEBOOK,
  IJob,
  ISubmitJobRequest,
  RUNNABLE_EXTENSIONS
} from './tokens';

/**
 * The `script` of a job running the file at `path` (relative to the
 * server root, which is the home folder), or `null` when that file is not
 * a script or a notebook.
 */
export function scriptFromPath(path: string): string | null {
  const script = path.replace(/^\/+/, '');
  const base = script.split('/').pop() ?? '';
  // As Python sees suffixes: `.py` alone is a name without one.
  const runnable = RUNNABLE_EXTENSIONS.some(
    extension => base.endsWith(extension) && base.length > extension.length
  );
  return runnable ? script : null;
}

/** Whether the job runs a notebook (and so leaves an executed copy). */
export function isNotebookJob(job: IJob): boolean {
  return job.spec.script?.endsWith('.ipynb') ?? false;
}

/** Whether the job runs a Livy batch (submitted through a cluster's Livy API). */
export function isSparkBatch(job: IJob): boolean {
  return job.type === 'spark-batch';
}

/**
 * What the job runs, for people: its script, or its command line; a Livy
 * batch's file (its command is spark-submit with labdeck's settings).
 */
export function jobTarget(job: IJob): string {
  if (isSparkBatch(job) && job.spark_batch) {
    return job.spark_batch.file;
  }
  return job.spec.script ?? (job.spec.command ?? []).join(' ');
}

/**
 * The job's folder relative to the home folder, `labdeck/jobs/<id>`: where
 * its log is, and where a script may have saved a model to deploy.
 */
export function jobFolder(job: IJob): string {
  return job.output_dir?.startsWith('~/')
    ? job.output_dir.slice(2).replace(/\/+$/, '')
    : `labdeck/jobs/${job.id}`;
}

/**
 * Path of a notebook job's executed copy relative to the home folder (what
 * the document manager opens): in its folder, `~/labdeck/jobs/<id>`.
 */
export function executedNotebookPath(job: IJob): string {
  return `${jobFolder(job)}/${EXECUTED_NOTEBOOK}`;
}

/** The request that runs a job again, and what it cannot carry over. */
export interface IRerun {
  request: ISubmitJobRequest;
  /**
   * Environment variables the job had: the service never sends their
   * values back (they may be secrets), so the new job runs without them.
   */
  droppedEnv: string[];
}

/**
 * `POST jobs` with the settings of `job`: same name, file or command,
 * arguments or notebook parameters, folder, runtime, limit and metrics.
 * Only what the service accepts for that kind of job is sent (a script
 * takes no parameters, a notebook no arguments).
 */
export function rerunRequest(job: IJob): IRerun {
  const { spec } = job;
  const request: ISubmitJobRequest = {
    name: job.name,
    profile: spec.profile,
    metric_definitions: spec.metric_definitions.map(d => ({ ...d }))
  };
  if (spec.max_runtime_seconds !== null) {
    request.max_runtime_seconds = spec.max_runtime_seconds;
  }
  if (spec.script) {
    request.script = spec.script;
    if (isNotebookJob(job)) {
      if (spec.parameters && Object.keys(spec.parameters).length > 0) {
        request.parameters = { ...spec.parameters };
      }
    } else if (spec.args && spec.args.length > 0) {
      request.args = [...spec.args];
    }
  } else {
    request.command = [...(spec.command ?? [])];
  }
  if (spec.working_dir) {
    request.working_dir = spec.working_dir;
  }
  return { request, droppedEnv: [...(spec.env ?? [])] };
}
