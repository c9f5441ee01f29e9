import * as React from 'react';

import { Fields, FormActions } from '../components/fields';
import { useAction } from '../hooks';
import { ServingFields } from './fields';
import { IUpdateForm, updateFormOf, validateUpdateForm } from './logic';
import { IDeployment, IUpdateDeploymentRequest } from './tokens';

/** What an update may change (those of the other mode are left out). */
const UPDATE_FIELDS: readonly (keyof IUpdateForm)[] = [
  'modelDir',
  'replicas',
  'idleSeconds',
  'maxConcurrency',
  'access'
];

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
    (value: string): void => {
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

  return (
    <form
      className="jp-labdeck-create-form"
      aria-label={`Update ${deployment.name}`}
      onSubmit={event => void submit(event)}
    >
      <Fields layout="grid" disabled={busy !== null}>
        <ServingFields
          fields={UPDATE_FIELDS}
          form={form}
          mode={deployment.spec.mode}
          onChange={set}
          testIdPrefix="labdeck-deployment-update"
        />
      </Fields>
      <FormActions
        testIdPrefix="labdeck-deployment-update"
        problems={check.problems}
        label="Update"
        busyLabel="Updating…"
        busy={busy !== null}
        disabled={check.request === null || !inService}
        error={error}
      >
        {!inService && (
          <p className="jp-labdeck-muted">
            A deployment is updated while it is in service.
          </p>
        )}
      </FormActions>
    </form>
  );
}
