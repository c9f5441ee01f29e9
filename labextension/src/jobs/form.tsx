import { Button, HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ProblemList } from '../components/feedback';
import { useAction } from '../hooks';
import { IMe } from '../tokens';
import { IJobForm, validateJobForm } from './logic';
import { IJobDraft, ISubmitJobRequest } from './tokens';

/** Runtime limit proposed for a new job, minutes. */
const DEFAULT_RUNTIME_MINUTES = '60';

/** The runtimes a job may use: the user's profiles, else `cpu`. */
export function jobProfiles(
  me: IMe | null
): { label: string; value: string }[] {
  const profiles = me?.profiles ?? [];
  return profiles.length > 0
    ? profiles.map(p => ({ label: p.display_name || p.name, value: p.name }))
    : [{ label: 'cpu', value: 'cpu' }];
}

/** Props of {@link JobForm}. */
export interface IJobFormProps {
  me: IMe | null;
  /** Submit; a rejection is shown under the form as the service said it. */
  onSubmit: (request: ISubmitJobRequest) => Promise<unknown>;
  /**
   * A script proposed from elsewhere (the file browser): each new one
   * replaces the script and name typed, and brings the form into view.
   */
  draft?: IJobDraft | null;
}

/** The form that submits a training job. */
export function JobForm({ me, onSubmit, draft }: IJobFormProps): JSX.Element {
  const profiles = jobProfiles(me);
  const [form, setForm] = React.useState<IJobForm>({
    name: '',
    script: '',
    profile: '',
    maxRuntimeMinutes: DEFAULT_RUNTIME_MINUTES,
    metrics: ''
  });
  const [touched, setTouched] = React.useState(false);
  const { busy, error, run, clearError } = useAction<'submit'>();
  // The first runtime until the user picks one (profiles come with `me`).
  const chosen = { ...form, profile: form.profile || profiles[0].value };
  const check = validateJobForm(chosen);
  const formNode = React.useRef<HTMLFormElement>(null);
  const appliedDraft = React.useRef<number | null>(null);

  React.useEffect(() => {
    if (!draft || draft.serial === appliedDraft.current) {
      return;
    }
    appliedDraft.current = draft.serial;
    setForm(f => ({ ...f, script: draft.script, name: '' }));
    setTouched(true);
    clearError();
    // The runtime is what the user picks next.
    const node = formNode.current;
    node?.scrollIntoView?.({ block: 'nearest' });
    node?.querySelector('select')?.focus();
  }, [draft, clearError]);

  const set =
    (field: keyof IJobForm) =>
    (
      event: React.ChangeEvent<
        HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
      >
    ): void => {
      const value = event.target.value;
      setForm(f => ({ ...f, [field]: value }));
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
    if (await run('submit', () => onSubmit(request))) {
      setForm(f => ({ ...f, name: '' }));
      setTouched(false);
    }
  };

  return (
    <form
      ref={formNode}
      className="jp-labdeck-create-form"
      aria-label="Submit a training job"
      onSubmit={event => void submit(event)}
    >
      <h3 className="jp-labdeck-form-heading">New job</h3>
      <fieldset className="jp-labdeck-job-fields" disabled={busy !== null}>
        <label className="jp-labdeck-job-field">
          Script (in your home folder)
          <InputGroup
            type="text"
            value={form.script}
            placeholder="train.py"
            data-testid="labdeck-jobs-form-script"
            onChange={set('script')}
          />
        </label>
        <label className="jp-labdeck-job-field">
          Name (optional)
          <InputGroup
            type="text"
            value={form.name}
            maxLength={63}
            data-testid="labdeck-jobs-form-name"
            onChange={set('name')}
          />
        </label>
        <label className="jp-labdeck-job-field">
          Runtime
          <HTMLSelect
            value={chosen.profile}
            data-testid="labdeck-jobs-form-profile"
            onChange={set('profile')}
            options={profiles}
          />
        </label>
        <label className="jp-labdeck-job-field">
          Runtime limit (min)
          <InputGroup
            type="number"
            min={1}
            step={1}
            value={form.maxRuntimeMinutes}
            data-testid="labdeck-jobs-form-runtime"
            onChange={set('maxRuntimeMinutes')}
          />
        </label>
        <label className="jp-labdeck-job-field">
          Metrics from the log, one name=regex a line (optional)
          <textarea
            className="jp-labdeck-job-metrics"
            rows={2}
            value={form.metrics}
            placeholder="loss=loss: ([0-9.]+)"
            data-testid="labdeck-jobs-form-metrics"
            onChange={set('metrics')}
          />
        </label>
      </fieldset>
      {touched && check.problems.length > 0 && (
        <ProblemList
          problems={check.problems}
          testId="labdeck-jobs-form-problems"
        />
      )}
      <Button
        type="submit"
        className="jp-mod-styled jp-mod-accept"
        small
        disabled={busy !== null}
        data-testid="labdeck-jobs-form-submit"
      >
        {busy ? 'Submitting…' : 'Submit job'}
      </Button>
      <ActionError error={error} testId="labdeck-jobs-form-error" />
    </form>
  );
}
