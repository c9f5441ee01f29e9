import { PolledModel } from '../polling';
import { DeploymentsAPI, IDeploymentRef, IDeploymentsAPI } from './api';
import { deploymentKey, isTransitional } from './logic';
import {
  FAST_POLL_MS,
  ICreateDeploymentRequest,
  IDeployment,
  IDeploymentDraft,
  IUpdateDeploymentRequest,
  SLOW_POLL_MS
} from './tokens';

/**
 * The user's deployments: polls `GET deployments` every few seconds while
 * one is being created, updated or deleted, and every 30 s otherwise.
 */
export class DeploymentsModel extends PolledModel<IDeployment[]> {
  constructor(options: DeploymentsModel.IOptions = {}) {
    super({
      interval: SLOW_POLL_MS,
      fastInterval: FAST_POLL_MS,
      name: 'labdeck:deployments'
    });
    this.api = options.api ?? new DeploymentsAPI();
  }

  /** The calls the model and the deployment tabs make. */
  readonly api: IDeploymentsAPI;

  /** The deployments, newest first; `null` before the first answer. */
  get deployments(): IDeployment[] | null {
    return this.data;
  }

  /** The deployment `ref` as last fetched, `null` when it is not in the list. */
  deployment(ref: IDeploymentRef): IDeployment | null {
    const key = deploymentKey(ref);
    return this.data?.find(d => deploymentKey(d) === key) ?? null;
  }

  /**
   * The folder proposed for the deploy form (by the file browser's "Deploy
   * as endpoint", or a finished job's "Deploy"), `null` until one is.
   */
  get draft(): IDeploymentDraft | null {
    return this._draft;
  }

  /** Propose `modelDir` (relative to the home) in the deploy form. */
  prefill(modelDir: string): void {
    this._draft = { modelDir, serial: (this._draft?.serial ?? 0) + 1 };
    this.emitChanged();
  }

  /**
   * Deploy; resolves with the new deployment (and its key, shown once),
   * rejects with the service's refusal.
   */
  async create(request: ICreateDeploymentRequest): Promise<IDeployment> {
    const created = await this.api.create(request);
    const key = deploymentKey(created);
    this.setData([
      withoutKey(created),
      ...(this.data ?? []).filter(d => deploymentKey(d) !== key)
    ]);
    void this.refreshAfterChange();
    return created;
  }

  /** Change how it serves; resolves with its new state (and a new key). */
  async update(
    ref: IDeploymentRef,
    request: IUpdateDeploymentRequest
  ): Promise<IDeployment> {
    const updated = await this.api.update(ref, request);
    const key = deploymentKey(ref);
    this.setData(
      (this.data ?? []).map(d =>
        deploymentKey(d) === key ? withoutKey(updated) : d
      )
    );
    void this.refreshAfterChange();
    return updated;
  }

  /** Delete it: gone from the list at once. */
  async remove(ref: IDeploymentRef): Promise<void> {
    await this.api.remove(ref);
    const key = deploymentKey(ref);
    this.setData((this.data ?? []).filter(d => deploymentKey(d) !== key));
    await this.refreshAfterChange();
  }

  protected isTransitional(deployments: IDeployment[]): boolean {
    return deployments.some(d => isTransitional(d.state));
  }

  protected load(): Promise<IDeployment[]> {
    return this.api.list();
  }

  private _draft: IDeploymentDraft | null = null;
}

/** The deployment without its key: the list never keeps one. */
function withoutKey(deployment: IDeployment): IDeployment {
  const copy = { ...deployment };
  delete copy.key;
  return copy;
}

/** Statics of {@link DeploymentsModel}. */
export namespace DeploymentsModel {
  export interface IOptions {
    /** The calls to make; defaults to the real API (tests inject one). */
    api?: IDeploymentsAPI;
  }
}
