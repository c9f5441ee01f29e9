import { MainAreaWidget } from '@jupyterlab/apputils';
import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ErrorAlert, Loading } from '../components/feedback';
import { useAction } from '../hooks';
import { resourceTab, TabContent } from '../tabs';
import { IDeploymentRef } from './api';
import { MetricsFollower, RecommendationFollower } from './follower';
import { describeServing } from './logic';
import { DeploymentsModel } from './model';
import { DeploymentMetrics } from './metrics';
import { DeploymentChip, DeploymentStatus, KeyNotice } from './parts';
import { Recommender } from './recommender';
import { Snippets } from './snippets';
import { TestForm } from './tester';
import {
  DEPLOYMENT_VIEW_NAMESPACE,
  IDeployment,
  IUpdateDeploymentRequest,
  SAMPLE_PAYLOAD
} from './tokens';
import { UpdateForm } from './update';

/** Props of {@link DeploymentView}. */
export interface IDeploymentViewProps {
  /** The deployments list: the deployment's state comes from its polls. */
  model: DeploymentsModel;
  /** Which deployment. */
  deployment: IDeploymentRef;
  /** Where the hub is (`hubHost`, or the page's origin): for the snippets. */
  origin: string;
  /** Ask before deleting; without it, delete at once. */
  confirmDelete?: (name: string) => Promise<boolean>;
}

/**
 * One deployment in the main area: its state and why, a test form, its
 * metric charts, how to call it, Update, Delete, and the recommender.
 */
export function DeploymentView(props: IDeploymentViewProps): JSX.Element {
  const { model } = props;
  return (
    <UseSignal signal={model.changed} initialSender={model}>
      {() => <DeploymentViewBody {...props} />}
    </UseSignal>
  );
}

function DeploymentViewBody(props: IDeploymentViewProps): JSX.Element {
  const { model, deployment: ref } = props;
  const deployment = model.deployment(ref);
  if (!deployment) {
    return (
      <div
        className="jp-labdeck-job-view"
        data-testid="labdeck-deployment-view"
        data-name={ref.name}
      >
        {model.error && (
          <ErrorAlert
            error={model.error}
            testId="labdeck-deployment-view-error"
          />
        )}
        {model.deployments === null ? (
          <Loading testId="labdeck-deployment-view-loading" />
        ) : (
          <p
            className="jp-labdeck-muted"
            data-testid="labdeck-deployment-view-gone"
          >
            Deployment {ref.name} is not in your list any more: it was deleted.
          </p>
        )}
      </div>
    );
  }
  return <Deployed {...props} current={deployment} />;
}

/** The tab of a deployment the list has. */
function Deployed({
  model,
  deployment: ref,
  current,
  origin,
  confirmDelete
}: IDeploymentViewProps & { current: IDeployment }): JSX.Element {
  const [payload, setPayload] = React.useState(SAMPLE_PAYLOAD);
  const [key, setKey] = React.useState<string | null>(null);
  // Live as long as the tab shows this deployment.
  const [metrics] = React.useState(() => new MetricsFollower(model.api, ref));
  const [recommendation] = React.useState(
    () => new RecommendationFollower(model.api, ref)
  );
  React.useEffect(() => {
    metrics.start();
    recommendation.start();
    return () => {
      metrics.dispose();
      recommendation.dispose();
    };
  }, [metrics, recommendation]);

  const send = async (text: string) => {
    const result = await model.api.invoke(ref, text);
    // Its minute counts the call now: show it without waiting for a poll.
    void metrics.refresh();
    return result;
  };
  const update = async (
    request: IUpdateDeploymentRequest
  ): Promise<IDeployment> => {
    const updated = await model.update(ref, request);
    setKey(updated.key ?? null);
    return updated;
  };

  return (
    <div
      className="jp-labdeck-job-view"
      data-testid="labdeck-deployment-view"
      data-name={current.name}
      data-user={current.user}
      data-state={current.state}
    >
      <header className="jp-labdeck-job-view-header">
        <h2 className="jp-labdeck-report-title">{current.name}</h2>
        <DeploymentChip deployment={current} />
      </header>
      <p className="jp-labdeck-muted" data-testid="labdeck-deployments-serving">
        {describeServing(current)} · {current.spec.model_dir} (
        {current.spec.model_format}) · {current.spec.memory_mb} MB each
      </p>
      {model.error && (
        <ErrorAlert
          error={model.error}
          testId="labdeck-deployment-view-error"
        />
      )}
      <DeploymentStatus deployment={current} />
      <Actions
        deployment={current}
        model={model}
        onKey={setKey}
        confirmDelete={confirmDelete}
      />
      {key && (
        <KeyNotice
          name={current.name}
          accessKey={key}
          onDismiss={() => setKey(null)}
        />
      )}

      <h3 className="jp-labdeck-form-heading">Test</h3>
      <TestForm payload={payload} onPayloadChange={setPayload} onSend={send} />

      <h3 className="jp-labdeck-form-heading">Metrics</h3>
      <DeploymentMetrics follower={metrics} />

      <h3 className="jp-labdeck-form-heading">Call it</h3>
      <Snippets deployment={current} origin={origin} payload={payload} />

      <h3 className="jp-labdeck-form-heading">Update</h3>
      <UpdateForm deployment={current} onUpdate={update} />

      <h3 className="jp-labdeck-form-heading">Recommend a configuration</h3>
      <Recommender
        deployment={current}
        follower={recommendation}
        payload={payload}
        onApply={replicas => update({ replicas })}
      />
    </div>
  );
}

/** Delete (after a confirmation), and New key for key access. */
function Actions({
  deployment,
  model,
  onKey,
  confirmDelete
}: {
  deployment: IDeployment;
  model: DeploymentsModel;
  onKey: (key: string) => void;
  confirmDelete?: (name: string) => Promise<boolean>;
}): JSX.Element {
  const { busy, error, run } = useAction<'delete' | 'key'>();
  const remove = async (): Promise<void> => {
    if (confirmDelete && !(await confirmDelete(deployment.name))) {
      return;
    }
    await run('delete', () => model.remove(deployment));
  };
  const newKey = (): Promise<boolean> =>
    run('key', async () => onKey((await model.api.newKey(deployment)).key));
  return (
    <>
      <div className="jp-labdeck-job-actions">
        {deployment.spec.access === 'key' && (
          <Button
            className="jp-mod-styled"
            small
            disabled={busy !== null}
            title="Make a new access key: the old one stops working at once"
            data-testid="labdeck-deployment-new-key"
            onClick={() => void newKey()}
          >
            {busy === 'key' ? 'Making a key…' : 'New key'}
          </Button>
        )}
        {deployment.state !== 'DELETING' && (
          <Button
            className="jp-mod-styled jp-mod-warn"
            small
            disabled={busy !== null}
            data-testid="labdeck-deployment-delete"
            onClick={() => void remove()}
          >
            {busy === 'delete' ? 'Deleting…' : 'Delete'}
          </Button>
        )}
      </div>
      <ActionError error={error} testId="labdeck-deployment-action-error" />
    </>
  );
}

/** The content of a deployment's tab. */
export class DeploymentViewWidget extends TabContent<IDeploymentViewProps> {
  constructor(options: IDeploymentViewProps) {
    super(DeploymentView, options);
  }

  /** The deployment shown. */
  get deployment(): IDeploymentRef {
    return this.props.deployment;
  }
}

/** The DOM id of a deployment's tab. */
export function deploymentViewId(ref: IDeploymentRef): string {
  return `${DEPLOYMENT_VIEW_NAMESPACE}-${ref.user}-${ref.name}`;
}

/** A deployment's tab for the main area, named after the deployment. */
export function createDeploymentView(
  options: IDeploymentViewProps
): MainAreaWidget<DeploymentViewWidget> {
  const { deployment: ref } = options;
  return resourceTab(new DeploymentViewWidget(options), {
    id: deploymentViewId(ref),
    label: ref.name,
    caption: `Deployment ${ref.name} of ${ref.user}`
  });
}
