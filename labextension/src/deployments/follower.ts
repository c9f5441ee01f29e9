import { PolledModel } from '../polling';
import { IDeploymentRef, IDeploymentsAPI } from './api';
import { mergeMinutes, nextSince } from './logic';
import {
  IMetricMinute,
  IRecommendationRun,
  METRICS_POLL_MS,
  RECOMMENDATION_POLL_MS,
  SLOW_POLL_MS
} from './tokens';

/**
 * Follows an opened deployment's per-minute metrics: each poll reads the
 * minutes from the last one read on (that one again: it is still
 * counting) and merges them in.
 */
export class MetricsFollower extends PolledModel<IMetricMinute[]> {
  constructor(
    private readonly _api: IDeploymentsAPI,
    readonly ref: IDeploymentRef
  ) {
    super({
      interval: METRICS_POLL_MS,
      name: `labdeck:deployment-metrics:${ref.user}/${ref.name}`
    });
  }

  protected async load(): Promise<IMetricMinute[]> {
    const kept = this.data ?? [];
    const answer = await this._api.metrics(this.ref, nextSince(kept));
    return mergeMinutes(kept, answer.points);
  }
}

/**
 * Follows a deployment's latest recommender run: every 2 s while it runs,
 * rarely otherwise (a run started elsewhere shows up all the same).
 */
export class RecommendationFollower extends PolledModel<{
  run: IRecommendationRun | null;
}> {
  constructor(
    private readonly _api: IDeploymentsAPI,
    readonly ref: IDeploymentRef
  ) {
    super({
      interval: SLOW_POLL_MS,
      fastInterval: RECOMMENDATION_POLL_MS,
      name: `labdeck:deployment-recommendation:${ref.user}/${ref.name}`
    });
  }

  /** The latest run, `null` when there is none (or before the first answer). */
  get run(): IRecommendationRun | null {
    return this.data?.run ?? null;
  }

  /** Start a run; it is followed from its first answer on. */
  async launch(
    request: Parameters<IDeploymentsAPI['recommend']>[1]
  ): Promise<IRecommendationRun> {
    const run = await this._api.recommend(this.ref, request);
    this.setData({ run });
    return run;
  }

  protected isTransitional(data: { run: IRecommendationRun | null }): boolean {
    return data.run?.state === 'RUNNING';
  }

  protected async load(): Promise<{ run: IRecommendationRun | null }> {
    return { run: await this._api.recommendation(this.ref) };
  }
}
