import { Token } from '@lumino/coreutils';

import { PolledModel } from './polling';
import { requestAPI } from './request';
import {
  DEFAULT_REFRESH_INTERVAL_SECONDS,
  IMe,
  MAX_BACKOFF_SECONDS,
  MIN_REFRESH_INTERVAL_SECONDS
} from './tokens';

/**
 * Holds the latest answer of `GET me` and refreshes it every
 * `refreshIntervalSeconds`.
 *
 * The sidebar, the status bar item and the notifications share one model,
 * hence one poll; after failures it backs off up to
 * {@link MAX_BACKOFF_SECONDS}.
 */
export class LabdeckModel extends PolledModel<IMe> {
  constructor(options: LabdeckModel.IOptions = {}) {
    super({
      interval:
        LabdeckModel.clampInterval(
          options.refreshIntervalSeconds ?? DEFAULT_REFRESH_INTERVAL_SECONDS
        ) * 1000,
      maxInterval: MAX_BACKOFF_SECONDS * 1000,
      name: 'labdeck:me'
    });
    this._fetchMe = options.fetchMe ?? (() => requestAPI<IMe>('me'));
  }

  /** The latest successful answer, `null` before the first one. */
  get me(): IMe | null {
    return this.data;
  }

  /** Seconds between two fetches (at least {@link MIN_REFRESH_INTERVAL_SECONDS}). */
  get refreshIntervalSeconds(): number {
    return this.interval / 1000;
  }
  set refreshIntervalSeconds(value: number) {
    this.interval = LabdeckModel.clampInterval(value) * 1000;
  }

  protected load(): Promise<IMe> {
    return this._fetchMe();
  }

  private _fetchMe: () => Promise<IMe>;
}

/** Statics of {@link LabdeckModel}. */
export namespace LabdeckModel {
  export interface IOptions {
    /** Seconds between fetches; defaults to 30, at least 5. */
    refreshIntervalSeconds?: number;
    /** How to fetch `me`; defaults to `requestAPI('me')` (tests inject one). */
    fetchMe?: () => Promise<IMe>;
  }

  /** Bring a configured period into the accepted range. */
  export function clampInterval(seconds: number): number {
    if (!Number.isFinite(seconds)) {
      return DEFAULT_REFRESH_INTERVAL_SECONDS;
    }
    return Math.max(MIN_REFRESH_INTERVAL_SECONDS, seconds);
  }
}

/**
 * Token of the shared {@link LabdeckModel}, provided by the `labdeck:sidebar`
 * plugin so other labdeck plugins (status bar, sections) reuse its poll.
 */
export const ILabdeckModel = new Token<LabdeckModel>(
  'labdeck:ILabdeckModel',
  'The labdeck model: the latest answer of the labdeck `me` API, refreshed periodically.'
);
