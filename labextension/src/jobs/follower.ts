import { PolledModel } from '../polling';
import { IJobsAPI } from './api';
import { appendLog, EMPTY_LOG, ILogTail } from './logic';
import { FOLLOW_POLL_MS, IMetricPoint, SLOW_POLL_MS } from './tokens';

/** Most metric points kept in the browser for one job (the latest). */
const MAX_POINTS = 20_000;
/** Most log reads per poll, to catch up with a log that grew a lot. */
const MAX_LOG_READS = 5;

/** What the browser has read of one job's log and metrics. */
export interface IJobTrace {
  log: ILogTail;
  points: IMetricPoint[];
}

/**
 * Follows one opened job: each poll reads its log from where the last read
 * ended and its metric points since the last one, and appends them. Polls
 * every 2 s while the job is live, rarely once it has ended.
 */
export class JobFollower extends PolledModel<IJobTrace> {
  constructor(
    private readonly _api: IJobsAPI,
    readonly jobId: string
  ) {
    super({
      interval: FOLLOW_POLL_MS,
      name: `labdeck:job:${jobId}`
    });
  }

  /** Whether the job still runs: the poll slows down once it has not. */
  set live(live: boolean) {
    const interval = live ? FOLLOW_POLL_MS : SLOW_POLL_MS;
    if (this.interval !== interval) {
      this.interval = interval;
    }
  }

  protected async load(): Promise<IJobTrace> {
    let log = this.data?.log ?? EMPTY_LOG;
    for (let read = 0; read < MAX_LOG_READS; read++) {
      const chunk = await this._api.logs(this.jobId, log.offset);
      log = appendLog(log, chunk);
      if (chunk.text.length === 0 || chunk.next_offset >= chunk.size) {
        break;
      }
    }
    const page = await this._api.metrics(this.jobId, this._since);
    let points = this.data?.points ?? [];
    if (page.points.length > 0) {
      points = [...points, ...page.points].slice(-MAX_POINTS);
    }
    this._since = page.next_since;
    return { log, points };
  }

  /** Cursor of the next metrics read (0: from the first point). */
  private _since = 0;
}
