import * as React from 'react';

import { Fields, FormActions } from '../components/fields';
import { useAction, useDraft } from '../hooks';
import { ServingField, ServingFields } from './fields';
import {
  defaultDeployForm,
  IDeployForm,
  nameFromFolder,
  validateDeployForm
} from './logic';
import { KeyNotice } from './parts';
import {
  ICreateDeploymentRequest,
  IDeployment,
  IDeploymentDraft
} from './tokens';

/** The deploy form's fields (those of the other mode are left out). */
const DEPLOY_FIELDS: readonly ServingField[] = [
  'modelDir',
  'name',
  'mode',
  'replicas',
  'maxConcurrency',
  'idleSeconds',
  'memoryMb',
  'access'
];

/** Props of {@link DeployForm}. */
export interface IDeployFormProps {
  /**
   * Deploy; resolves with the new deployment (with its key for key
   * access). A rejection is shown under the form as the service said it.
   */
  onDeploy: (request: ICreateDeploymentRequest) => Promise<IDeployment>;
  /**
   * A folder proposed from elsewhere (the file browser, a finished job):
   * each new one replaces the folder and name, and brings the form into view.
   */
  draft?: IDeploymentDraft | null;
}

/** The form that deploys a model folder as an endpoint. */
export function DeployForm({ onDeploy, draft }: IDeployFormProps): JSX.Element {
  const [form, setForm] = React.useState<IDeployForm>(() =>
    defaultDeployForm()
  );
  // The name follows the folder until the user types one.
  const [nameEdited, setNameEdited] = React.useState(false);
  const [touched, setTouched] = React.useState(false);
  const [key, setKey] = React.useState<{ name: string; key: string } | null>(
    null
  );
  const { busy, error, run, clearError } = useAction<'deploy'>();
  const check = validateDeployForm(form);
  const formNode = useDraft(draft, ({ modelDir }) => {
    setForm(f => ({ ...f, modelDir, name: nameFromFolder(modelDir) }));
    setNameEdited(false);
    setTouched(true);
    clearError();
  });

  const set =
    (field: keyof IDeployForm) =>
    (value: string): void => {
      if (field === 'name') {
        setNameEdited(true);
      }
      setForm(f => {
        const next = { ...f, [field]: value };
        if (field === 'modelDir' && !nameEdited) {
          next.name = nameFromFolder(value);
        }
        return next;
      });
      setTouched(true);
      clearError();
    };

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    const request = check.request;
    if (!request || busy) {
      return;
    }
    const ok = await run('deploy', async () => {
      const created = await onDeploy(request);
      setKey(created.key ? { name: created.name, key: created.key } : null);
    });
    if (ok) {
      setForm(f => ({ ...f, modelDir: '', name: '' }));
      setNameEdited(false);
      setTouched(false);
    }
  };

  return (
    <form
      ref={formNode}
      className="jp-labdeck-create-form"
      aria-label="Deploy a model"
      onSubmit={event => void submit(event)}
    >
      <h3 className="jp-labdeck-form-heading">New deployment</h3>
      {key && (
        <KeyNotice
          name={key.name}
          accessKey={key.key}
          onDismiss={() => setKey(null)}
        />
      )}
      <Fields layout="grid" disabled={busy !== null}>
        <ServingFields
          fields={DEPLOY_FIELDS}
          form={form}
          mode={form.mode}
          onChange={set}
          testIdPrefix="labdeck-deployments-form"
        />
      </Fields>
      <FormActions
        testIdPrefix="labdeck-deployments-form"
        problems={touched ? check.problems : []}
        label="Deploy"
        busyLabel="Deploying…"
        busy={busy !== null}
        error={error}
      />
    </form>
  );
}
