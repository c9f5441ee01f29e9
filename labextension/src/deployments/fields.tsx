import * as React from 'react';

import {
  IFieldProps,
  NumberField,
  SelectField,
  TextField
} from '../components/fields';
import { ACCESS_OPTIONS, IDeployForm, MODE_OPTIONS } from './logic';
import {
  DeploymentMode,
  MAX_CONCURRENCY,
  MAX_MEMORY_MB,
  MAX_NAME_LENGTH,
  MIN_IDLE_SECONDS,
  MIN_MEMORY_MB
} from './tokens';

/** A field of the deploy and update forms. */
export type ServingField = keyof IDeployForm;

/** What {@link ServingFields} gives each field: its value and test id. */
type ServingFieldProps = Pick<IFieldProps, 'value' | 'onChange' | 'testId'>;

/** One field of {@link ServingFields}. */
interface IServingFieldDefinition {
  /** Last part of its test id, after the form's prefix. */
  testId: string;
  /** The one mode in which the field means something. */
  mode?: DeploymentMode;
  render: (props: ServingFieldProps) => JSX.Element;
}

/** Each field once, for the deploy form and the update form alike. */
const FIELDS: Record<ServingField, IServingFieldDefinition> = {
  modelDir: {
    testId: 'folder',
    render: props => (
      <TextField
        {...props}
        label="Model folder (in your home)"
        wide
        placeholder="models/iris"
        title="A folder with inference.py (model_fn, predict_fn) or a scikit-learn model.joblib"
      />
    )
  },
  name: {
    testId: 'name',
    render: props => (
      <TextField
        {...props}
        label="Name"
        wide
        maxLength={MAX_NAME_LENGTH}
        title="Lowercase letters, digits and dashes: part of the endpoint's URL"
      />
    )
  },
  mode: {
    testId: 'mode',
    render: props => (
      <SelectField {...props} label="Mode" wide options={MODE_OPTIONS} />
    )
  },
  replicas: {
    testId: 'replicas',
    mode: 'realtime',
    render: props => <NumberField {...props} label="Replicas" min={1} />
  },
  maxConcurrency: {
    testId: 'concurrency',
    render: props => (
      <NumberField
        {...props}
        label="Max concurrency"
        min={1}
        max={MAX_CONCURRENCY}
        title="Requests served at once; more get 429 Too Many Requests"
      />
    )
  },
  idleSeconds: {
    testId: 'idle',
    mode: 'serverless',
    render: props => (
      <NumberField
        {...props}
        label="Idle seconds to zero"
        min={MIN_IDLE_SECONDS}
        title="Stop the replica after this long without a request; the next request starts it again"
      />
    )
  },
  memoryMb: {
    testId: 'memory',
    render: props => (
      <NumberField
        {...props}
        label="Memory (MB)"
        min={MIN_MEMORY_MB}
        max={MAX_MEMORY_MB}
        step={128}
        title="Memory of each replica"
      />
    )
  },
  access: {
    testId: 'access',
    render: props => (
      <SelectField {...props} label="Access" wide options={ACCESS_OPTIONS} />
    )
  }
};

/** Props of {@link ServingFields}. */
export interface IServingFieldsProps<K extends ServingField> {
  /** The fields to show, in this order (those of the other mode are left out). */
  fields: readonly K[];
  form: Pick<IDeployForm, K>;
  /** How the deployment serves: which of its mode's fields are shown. */
  mode: DeploymentMode;
  onChange: (field: K) => (value: string) => void;
  /** Prefix of the fields' test ids, e.g. `labdeck-deployments-form`. */
  testIdPrefix: string;
}

/** How a deployment serves, as fields (inside the form's `Fields`). */
export function ServingFields<K extends ServingField>({
  fields,
  form,
  mode,
  onChange,
  testIdPrefix
}: IServingFieldsProps<K>): JSX.Element {
  return (
    <>
      {fields
        .filter(field => (FIELDS[field].mode ?? mode) === mode)
        .map(field => (
          <React.Fragment key={field}>
            {FIELDS[field].render({
              value: form[field],
              onChange: onChange(field),
              testId: `${testIdPrefix}-${FIELDS[field].testId}`
            })}
          </React.Fragment>
        ))}
    </>
  );
}
