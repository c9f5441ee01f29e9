import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ResourceList } from '../components/resourceList';
import { IMe } from '../tokens';
import { IDeploymentRef } from './api';
import { DeployForm } from './form';
import { deploymentKey, describeServing } from './logic';
import { DeploymentsModel } from './model';
import { DeploymentChip, DeploymentStatus } from './parts';
import { ICreateDeploymentRequest, IDeployment } from './tokens';

/** Props of {@link DeploymentsPanel}. */
export interface IDeploymentsPanelProps {
  model: DeploymentsModel;
  /** The user (others' deployments, which admins see, are labelled). */
  me: IMe | null;
  /**
   * Open a deployment in its own tab; also called with one just made.
   * Without it, deployments are only listed.
   */
  onOpen?: (ref: IDeploymentRef) => void;
}

/**
 * Deployments section: the user's deployments with their state, progress,
 * replicas, mode and access, and the deploy form.
 */
export function DeploymentsPanel({
  model,
  me,
  onOpen
}: IDeploymentsPanelProps): JSX.Element {
  const deploy = React.useCallback(
    async (request: ICreateDeploymentRequest): Promise<IDeployment> => {
      const created = await model.create(request);
      onOpen?.(created);
      return created;
    },
    [model, onOpen]
  );
  return (
    <UseSignal signal={model.changed} initialSender={model}>
      {() => (
        <ResourceList
          testIdPrefix="labdeck-deployments"
          className="jp-labdeck-deployments"
          listClassName="jp-labdeck-jobs-list"
          error={model.error}
          loading={model.loading}
          items={model.deployments}
          empty="No deployments yet. Deploy a model folder below (or right-click it in the file browser): it answers at an endpoint of its own."
          itemKey={deploymentKey}
          renderItem={deployment => (
            <DeploymentItem
              deployment={deployment}
              owner={me?.name ?? null}
              onOpen={onOpen}
            />
          )}
        >
          <DeployForm onDeploy={deploy} draft={model.draft} />
        </ResourceList>
      )}
    </UseSignal>
  );
}

function DeploymentItem({
  deployment,
  owner,
  onOpen
}: {
  deployment: IDeployment;
  owner: string | null;
  onOpen?: (ref: IDeploymentRef) => void;
}): JSX.Element {
  const other = owner !== null && deployment.user !== owner;
  return (
    <li
      className="jp-labdeck-job jp-labdeck-deployment"
      data-testid="labdeck-deployments-item"
      data-name={deployment.name}
      data-user={deployment.user}
      data-state={deployment.state}
    >
      <div className="jp-labdeck-job-line">
        <span className="jp-labdeck-deployment-name" title={deployment.id}>
          {deployment.name}
        </span>
        <DeploymentChip deployment={deployment} />
      </div>
      <div
        className="jp-labdeck-muted"
        data-testid="labdeck-deployments-serving"
      >
        {describeServing(deployment)}
        {other ? ` · ${deployment.user}` : ''}
      </div>
      <div className="jp-labdeck-muted jp-labdeck-deployment-folder">
        {deployment.spec.model_dir}
      </div>
      <DeploymentStatus deployment={deployment} />
      {onOpen && (
        <div className="jp-labdeck-job-actions">
          <Button
            className="jp-mod-styled"
            small
            title={`Open ${deployment.name} in a tab: test it, watch its metrics, update or delete it`}
            data-testid="labdeck-deployments-open"
            onClick={() => onOpen(deployment)}
          >
            Open in a tab
          </Button>
        </div>
      )}
    </li>
  );
}
