import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { CopyButton } from '../components/copy';
import { ProgressMeter } from '../components/progress';
import { StateChip } from '../components/stateChip';
import { stateTone } from './logic';
import { IDeployment } from './tokens';

/**
 * Pieces of a deployment shown both in the sidebar's list and in its tab,
 * with the same test ids in both.
 */

/** The state chip: changing states outlined, outcomes filled. */
export function DeploymentChip({
  deployment
}: {
  deployment: IDeployment;
}): JSX.Element {
  return (
    <StateChip
      state={deployment.state}
      tone={stateTone(deployment.state)}
      testId="labdeck-deployments-state"
    />
  );
}

/**
 * Where it stands beyond its state: the step while it is created, and why
 * it failed or why its last update did not apply.
 */
export function DeploymentStatus({
  deployment
}: {
  deployment: IDeployment;
}): JSX.Element | null {
  const { state, state_reason: reason } = deployment;
  return (
    <>
      {state === 'CREATING' && (
        <ProgressMeter
          label="Creating"
          progress={deployment.progress}
          testId="labdeck-deployments-progress"
        />
      )}
      {state === 'DELETING' && (
        <p className="jp-labdeck-muted" role="status">
          Deleting…
        </p>
      )}
      {reason && (
        <p
          className={`jp-labdeck-deployment-reason ${
            state === 'FAILED' ? 'jp-labdeck-error' : 'jp-labdeck-muted'
          }`}
          data-testid="labdeck-deployments-reason"
        >
          {reason}
        </p>
      )}
    </>
  );
}

/**
 * A deployment's access key, as the answer that made it gave it: the
 * service keeps only a digest, so this is the one time it can be read.
 */
export function KeyNotice({
  name,
  accessKey,
  onDismiss
}: {
  name: string;
  accessKey: string;
  onDismiss: () => void;
}): JSX.Element {
  return (
    <div
      className="jp-labdeck-deployment-key"
      role="alert"
      data-testid="labdeck-deployments-key"
    >
      <p>
        <strong>Access key of {name}</strong>, for{' '}
        <code>Authorization: Bearer &lt;key&gt;</code>:
      </p>
      <code
        className="jp-labdeck-deployment-key-value"
        data-testid="labdeck-deployments-key-value"
      >
        {accessKey}
      </code>
      <p className="jp-labdeck-deployment-key-warning">
        It is shown only this once: copy it now and keep it somewhere safe. If
        it is lost, make a new one with New key in the deployment’s tab.
      </p>
      <div className="jp-labdeck-job-actions">
        <CopyButton
          text={accessKey}
          label="Copy key"
          testId="labdeck-deployments-key-copy"
        />
        <Button
          className="jp-mod-styled"
          small
          data-testid="labdeck-deployments-key-dismiss"
          onClick={onDismiss}
        >
          I have copied it
        </Button>
      </div>
    </div>
  );
}
