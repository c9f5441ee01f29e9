import { IJobsAPI } from '../jobs/api';
import {
  IJob,
  ILogChunk,
  IMetricPoint,
  IMetricsPage,
  ISubmitJobRequest,
  JobState
} from '../jobs/tokens';
import { LabdeckRequestError } from '../request';

/**
 * A job as `GET jobs` sends it: `train.py` on cpu for an hour, made now;
 * `overrides` change what a test needs.
 */
export function makeJob(
  id: string,
  state: JobState,
  overrides: Partial<IJob> = {}
): IJob {
  return {
    id,
    name: `job-${id}`,
    user: 'alice',
    state,
    state_reason: null,
    spec: {
      script: 'train.py',
      command: null,
      args: [],
      parameters: {},
      profile: 'cpu',
      max_runtime_seconds: 3600,
      metric_definitions: [],
      working_dir: null,
      env: []
    },
    created: new Date().toISOString(),
    started: null,
    ended: null,
    runtime_deadline: null,
    output_dir: null,
    ...overrides
  };
}

/** An in-memory service: the API the models call. */
export class FakeAPI implements IJobsAPI {
  jobs: IJob[] = [];
  log = '';
  points: IMetricPoint[] = [];
  submitted: ISubmitJobRequest[] = [];
  submitError: LabdeckRequestError | null = null;
  stopped: string[] = [];
  logOffsets: number[] = [];
  sinces: number[] = [];

  async list(): Promise<IJob[]> {
    return this.jobs.map(j => ({ ...j }));
  }
  async submit(request: ISubmitJobRequest): Promise<IJob> {
    if (this.submitError) {
      throw this.submitError;
    }
    this.submitted.push(request);
    const job = makeJob(`j${this.submitted.length}`, 'PENDING', {
      name: request.name
    });
    this.jobs = [job, ...this.jobs];
    return { ...job };
  }
  async stop(id: string): Promise<IJob> {
    this.stopped.push(id);
    const job = this.jobs.find(j => j.id === id)!;
    job.state = 'STOPPING';
    return { ...job };
  }
  async logs(_id: string, offset: number): Promise<ILogChunk> {
    this.logOffsets.push(offset);
    const text = this.log.slice(offset);
    return {
      offset,
      next_offset: offset + text.length,
      size: this.log.length,
      text
    };
  }
  async metrics(_id: string, since: number): Promise<IMetricsPage> {
    // The cursor counts points here (bytes of metrics.jsonl on the server).
    this.sinces.push(since);
    return { points: this.points.slice(since), next_since: this.points.length };
  }
}
