import * as React from 'react';

import {
  Fields,
  FormActions,
  NumberField,
  SelectField,
  TextAreaField,
  TextField
} from '../components/fields';
import { useAction, useDraft } from '../hooks';
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
  const formNode = useDraft(draft, ({ script }) => {
    setForm(f => ({ ...f, script, name: '' }));
    setTouched(true);
    clearError();
  });

  const set =
    (field: keyof IJobForm) =>
    (value: string): void => {
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
      <Fields layout="lines" disabled={busy !== null}>
        <TextField
          label="Script (in your home folder)"
          value={form.script}
          placeholder="train.py"
          testId="labdeck-jobs-form-script"
          onChange={set('script')}
        />
        <TextField
          label="Name (optional)"
          value={form.name}
          maxLength={63}
          testId="labdeck-jobs-form-name"
          onChange={set('name')}
        />
        <SelectField
          label="Runtime"
          value={chosen.profile}
          testId="labdeck-jobs-form-profile"
          onChange={set('profile')}
          options={profiles}
        />
        <NumberField
          label="Runtime limit (min)"
          min={1}
          value={form.maxRuntimeMinutes}
          testId="labdeck-jobs-form-runtime"
          onChange={set('maxRuntimeMinutes')}
        />
        <TextAreaField
          label="Metrics from the log, one name=regex a line (optional)"
          rows={2}
          value={form.metrics}
          placeholder="loss=loss: ([0-9.]+)"
          testId="labdeck-jobs-form-metrics"
          onChange={set('metrics')}
        />
      </Fields>
      <FormActions
        testIdPrefix="labdeck-jobs-form"
        problems={touched ? check.problems : []}
        label="Submit job"
        busyLabel="Submitting…"
        busy={busy !== null}
        error={error}
      />
    </form>
  );
}
