import { Button, HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ProblemList } from '../components/feedback';
import { useAction } from '../hooks';
import {
  ACCESS_OPTIONS,
  IUpdateForm,
  updateFormOf,
  validateUpdateForm
} from './logic';
import {
  IDeployment,
  IUpdateDeploymentRequest,
  MAX_CONCURRENCY,
  MIN_IDLE_SECONDS
} from './tokens';

/** Props of {@link UpdateForm}. */
export interface IUpdateFormProps {
  deployment: IDeployment;
  /** Send the changes; resolves with the deployment (and a new key). */
  onUpdate: (request: IUpdateDeploymentRequest) => Promise<IDeployment>;
}

/**
 * Changes how a deployment in service serves: its model folder, replicas
 * (realtime) or idle time (serverless), concurrency and access. Only what
 * differs is sent; it stays in service meanwhile (UPDATING).
 */
export function UpdateForm({
  deployment,
  onUpdate
}: IUpdateFormProps): JSX.Element {
  const [form, setForm] = React.useState<IUpdateForm>(() =>
    updateFormOf(deployment)
  );
  const { busy, error, run, clearError } = useAction<'update'>();
  // A change that applied (or one made elsewhere) shows in the fields.
  const spec = JSON.stringify(deployment.spec);
  React.useEffect(() => {
    setForm(updateFormOf(deployment));
    // `spec` stands for the fields the form shows.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [spec]);
  const check = validateUpdateForm(form, deployment);
  const inService = deployment.state === 'IN_SERVICE';

  const set =
    (field: keyof IUpdateForm) =>
    (event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>): void => {
      const value = event.target.value;
      setForm(f => ({ ...f, [field]: value }));
      clearError();
    };

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    const request = check.request;
    if (!request || busy) {
      return;
    }
    await run('update', () => onUpdate(request));
  };

  const realtime = deployment.spec.mode === 'realtime';
  return (
    <form
      className="jp-labdeck-create-form"
      aria-label={`Update ${deployment.name}`}
      onSubmit={event => void submit(event)}
    >
      <fieldset className="jp-labdeck-spark-fields" disabled={busy !== null}>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Model folder (in your home)
          <InputGroup
            type="text"
            value={form.modelDir}
            data-testid="labdeck-deployment-update-folder"
            onChange={set('modelDir')}
          />
        </label>
        {realtime ? (
          <label className="jp-labdeck-spark-field">
            Replicas
            <InputGroup
              type="number"
              min={1}
              step={1}
              value={form.replicas}
              data-testid="labdeck-deployment-update-replicas"
              onChange={set('replicas')}
            />
          </label>
        ) : (
          <label className="jp-labdeck-spark-field">
            Idle seconds to zero
            <InputGroup
              type="number"
              min={MIN_IDLE_SECONDS}
              step={1}
              value={form.idleSeconds}
              data-testid="labdeck-deployment-update-idle"
              onChange={set('idleSeconds')}
            />
          </label>
        )}
        <label className="jp-labdeck-spark-field">
          Max concurrency
          <InputGroup
            type="number"
            min={1}
            max={MAX_CONCURRENCY}
            step={1}
            value={form.maxConcurrency}
            data-testid="labdeck-deployment-update-concurrency"
            onChange={set('maxConcurrency')}
          />
        </label>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Access
          <HTMLSelect
            value={form.access}
            data-testid="labdeck-deployment-update-access"
            onChange={set('access')}
            options={ACCESS_OPTIONS}
          />
        </label>
      </fieldset>
      {check.problems.length > 0 && (
        <ProblemList
          problems={check.problems}
          testId="labdeck-deployment-update-problems"
        />
      )}
      {!inService && (
        <p className="jp-labdeck-muted">
          A deployment is updated while it is in service.
        </p>
      )}
      <Button
        type="submit"
        className="jp-mod-styled jp-mod-accept"
        small
        disabled={busy !== null || check.request === null || !inService}
        data-testid="labdeck-deployment-update-submit"
      >
        {busy ? 'Updating…' : 'Update'}
      </Button>
      <ActionError error={error} testId="labdeck-deployment-update-error" />
    </form>
  );
}
