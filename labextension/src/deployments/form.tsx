import { Button, HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ProblemList } from '../components/feedback';
import { useAction } from '../hooks';
import {
  ACCESS_OPTIONS,
  defaultDeployForm,
  IDeployForm,
  MODE_OPTIONS,
  nameFromFolder,
  validateDeployForm
} from './logic';
import { KeyNotice } from './parts';
import {
  ICreateDeploymentRequest,
  IDeployment,
  IDeploymentDraft,
  MAX_CONCURRENCY,
  MAX_MEMORY_MB,
  MAX_NAME_LENGTH,
  MIN_IDLE_SECONDS,
  MIN_MEMORY_MB
} from './tokens';

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
  const formNode = React.useRef<HTMLFormElement>(null);
  const appliedDraft = React.useRef<number | null>(null);

  React.useEffect(() => {
    if (!draft || draft.serial === appliedDraft.current) {
      return;
    }
    appliedDraft.current = draft.serial;
    setForm(f => ({
      ...f,
      modelDir: draft.modelDir,
      name: nameFromFolder(draft.modelDir)
    }));
    setNameEdited(false);
    setTouched(true);
    clearError();
    // How it serves is what the user picks next.
    const node = formNode.current;
    node?.scrollIntoView?.({ block: 'nearest' });
    node?.querySelector('select')?.focus();
  }, [draft, clearError]);

  const set =
    (field: keyof IDeployForm) =>
    (event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>): void => {
      const value = event.target.value;
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

  const serverless = form.mode === 'serverless';
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
      <fieldset className="jp-labdeck-spark-fields" disabled={busy !== null}>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Model folder (in your home)
          <InputGroup
            type="text"
            value={form.modelDir}
            placeholder="models/iris"
            title="A folder with inference.py (model_fn, predict_fn) or a scikit-learn model.joblib"
            data-testid="labdeck-deployments-form-folder"
            onChange={set('modelDir')}
          />
        </label>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Name
          <InputGroup
            type="text"
            value={form.name}
            maxLength={MAX_NAME_LENGTH}
            title="Lowercase letters, digits and dashes: part of the endpoint's URL"
            data-testid="labdeck-deployments-form-name"
            onChange={set('name')}
          />
        </label>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Mode
          <HTMLSelect
            value={form.mode}
            data-testid="labdeck-deployments-form-mode"
            onChange={set('mode')}
            options={MODE_OPTIONS}
          />
        </label>
        {!serverless && (
          <label className="jp-labdeck-spark-field">
            Replicas
            <InputGroup
              type="number"
              min={1}
              step={1}
              value={form.replicas}
              data-testid="labdeck-deployments-form-replicas"
              onChange={set('replicas')}
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
            title="Requests served at once; more get 429 Too Many Requests"
            data-testid="labdeck-deployments-form-concurrency"
            onChange={set('maxConcurrency')}
          />
        </label>
        {serverless && (
          <label className="jp-labdeck-spark-field">
            Idle seconds to zero
            <InputGroup
              type="number"
              min={MIN_IDLE_SECONDS}
              step={1}
              value={form.idleSeconds}
              title="Stop the replica after this long without a request; the next request starts it again"
              data-testid="labdeck-deployments-form-idle"
              onChange={set('idleSeconds')}
            />
          </label>
        )}
        <label className="jp-labdeck-spark-field">
          Memory (MB)
          <InputGroup
            type="number"
            min={MIN_MEMORY_MB}
            max={MAX_MEMORY_MB}
            step={128}
            value={form.memoryMb}
            title="Memory of each replica"
            data-testid="labdeck-deployments-form-memory"
            onChange={set('memoryMb')}
          />
        </label>
        <label className="jp-labdeck-spark-field jp-mod-wide">
          Access
          <HTMLSelect
            value={form.access}
            data-testid="labdeck-deployments-form-access"
            onChange={set('access')}
            options={ACCESS_OPTIONS}
          />
        </label>
      </fieldset>
      {touched && check.problems.length > 0 && (
        <ProblemList
          problems={check.problems}
          testId="labdeck-deployments-form-problems"
        />
      )}
      <Button
        type="submit"
        className="jp-mod-styled jp-mod-accept"
        small
        disabled={busy !== null}
        data-testid="labdeck-deployments-form-submit"
      >
        {busy ? 'Deploying…' : 'Deploy'}
      </Button>
      <ActionError error={error} testId="labdeck-deployments-form-error" />
    </form>
  );
}
