import { PolledModel } from '../polling';
import { IJobsAPI, JobsAPI } from './api';
import { isLive } from './logic';
import {
  FAST_POLL_MS,
  IJob,
  IJobDraft,
  ISubmitJobRequest,
  SLOW_POLL_MS
} from './tokens';

/**
 * The user's training jobs: polls `GET jobs` every few seconds while a
 * job is pending, running or stopping, and every 30 s otherwise.
 */
export class JobsModel extends PolledModel<IJob[]> {
  constructor(options: JobsModel.IOptions = {}) {
    super({
      interval: SLOW_POLL_MS,
      fastInterval: FAST_POLL_MS,
      name: 'labdeck:jobs'
    });
    this.api = options.api ?? new JobsAPI();
  }

  /** The calls the model and the job views make. */
  readonly api: IJobsAPI;

  /** The jobs, newest first; `null` before the first answer. */
  get jobs(): IJob[] | null {
    return this.data;
  }

  /** The job `id` as last fetched, `null` when it is not in the list. */
  job(id: string): IJob | null {
    return this.data?.find(j => j.id === id) ?? null;
  }

  /**
   * The script proposed for the submit form (by the file browser's "Run as
   * training job"), `null` until one is.
   */
  get draft(): IJobDraft | null {
    return this._draft;
  }

  /** Propose `script` (relative to the home) in the submit form. */
  prefill(script: string): void {
    this._draft = { script, serial: (this._draft?.serial ?? 0) + 1 };
    this.emitChanged();
  }

  /** Submit a job; rejects with the service's refusal. */
  async submit(request: ISubmitJobRequest): Promise<IJob> {
    const job = await this.api.submit(request);
    this.setData([job, ...(this.data ?? []).filter(j => j.id !== job.id)]);
    void this.refreshAfterChange();
    return job;
  }

  /** Stop a job; rejects with the service's refusal. */
  async stop(id: string): Promise<void> {
    const job = await this.api.stop(id);
    this.setData((this.data ?? []).map(j => (j.id === id ? job : j)));
    await this.refreshAfterChange();
  }

  protected isTransitional(jobs: IJob[]): boolean {
    return jobs.some(j => isLive(j.state));
  }

  protected load(): Promise<IJob[]> {
    return this.api.list();
  }

  private _draft: IJobDraft | null = null;
}

/** Statics of {@link JobsModel}. */
export namespace JobsModel {
  export interface IOptions {
    /** The calls to make; defaults to the real API (tests inject one). */
    api?: IJobsAPI;
  }
}
