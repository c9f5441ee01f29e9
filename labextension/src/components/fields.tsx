import {
  Button,
  HTMLSelect,
  InputGroup,
  IOptionProps
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ProblemList } from './feedback';

/**
 * How a form lays out its fields: a grid of short fields (a `wide` one
 * takes a row), as in the sidebar's create forms, or one field a line.
 */
export type FieldLayout = 'grid' | 'lines';

const LAYOUT_CLASSES: Record<FieldLayout, { fields: string; field: string }> = {
  grid: { fields: 'jp-labdeck-spark-fields', field: 'jp-labdeck-spark-field' },
  lines: { fields: 'jp-labdeck-job-fields', field: 'jp-labdeck-job-field' }
};

// The layout of the enclosing `Fields`; a field outside one is on its own line.
const LayoutContext = React.createContext<FieldLayout>('lines');

/** A form's fields, disabled together (while the form is busy). */
export function Fields({
  layout,
  disabled,
  children
}: {
  layout: FieldLayout;
  disabled: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <LayoutContext.Provider value={layout}>
      <fieldset className={LAYOUT_CLASSES[layout].fields} disabled={disabled}>
        {children}
      </fieldset>
    </LayoutContext.Provider>
  );
}

/** What every field has: its label, value and test id. */
export interface IFieldProps {
  label: string;
  value: string;
  /** Called with the new value as the user changes it. */
  onChange: (value: string) => void;
  testId: string;
  /** Take a whole row of a grid. */
  wide?: boolean;
  /** A tooltip that says what the value does. */
  title?: string;
}

/** A labelled control; the label is the field's accessible name. */
function Field({
  label,
  wide,
  children
}: {
  label: string;
  wide?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  const layout = React.useContext(LayoutContext);
  const className = LAYOUT_CLASSES[layout].field + (wide ? ' jp-mod-wide' : '');
  return (
    <label className={className}>
      {label}
      {children}
    </label>
  );
}

/**
 * A field's props as its control takes them: the test id as `data-testid`,
 * the new value to `onChange`, the others (value, title...) as they are.
 */
function controlProps<P extends Omit<IFieldProps, 'label' | 'wide'>>({
  testId,
  onChange,
  ...others
}: P) {
  return {
    ...others,
    'data-testid': testId,
    onChange: (
      event: React.ChangeEvent<
        HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
      >
    ) => onChange(event.target.value)
  };
}

/** A line of text. */
export function TextField({
  label,
  wide,
  ...control
}: IFieldProps & {
  placeholder?: string;
  maxLength?: number;
  required?: boolean;
}): JSX.Element {
  return (
    <Field label={label} wide={wide}>
      <InputGroup type="text" {...controlProps(control)} />
    </Field>
  );
}

/** A number, typed as text: the form's validation says what is wrong. */
export function NumberField({
  label,
  wide,
  step = 1,
  ...control
}: IFieldProps & {
  min?: number;
  max?: number;
  /** 1 by default: a whole number; `'any'` for decimals. */
  step?: number | 'any';
  required?: boolean;
}): JSX.Element {
  return (
    <Field label={label} wide={wide}>
      <InputGroup type="number" step={step} {...controlProps(control)} />
    </Field>
  );
}

/** One of a few choices. */
export function SelectField({
  label,
  wide,
  ...control
}: IFieldProps & { options: IOptionProps[] }): JSX.Element {
  return (
    <Field label={label} wide={wide}>
      <HTMLSelect {...controlProps(control)} />
    </Field>
  );
}

/** Several lines of code or data, in a monospace font. */
export function TextAreaField({
  label,
  wide,
  ...control
}: IFieldProps & {
  rows: number;
  placeholder?: string;
  spellCheck?: boolean;
}): JSX.Element {
  return (
    <Field label={label} wide={wide}>
      <textarea className="jp-labdeck-job-metrics" {...controlProps(control)} />
    </Field>
  );
}

/** Props of {@link FormActions}. */
export interface IFormActionsProps {
  /**
   * Prefix of the test ids: `<prefix>-problems`, `<prefix>-submit` (unless
   * `submitTestId` says otherwise) and `<prefix>-error`.
   */
  testIdPrefix: string;
  submitTestId?: string;
  /** What is wrong with the form; shown when there is anything. */
  problems: readonly string[];
  /** The submit button's text, and its text while the form is busy. */
  label: string;
  busyLabel: string;
  /** Whether it is being submitted: the button is disabled meanwhile. */
  busy: boolean;
  /** Whether the button is disabled even when the form is not busy. */
  disabled?: boolean;
  /** Why the last submission failed, as the service said it. */
  error: string | null;
  /** Styled as the form's main action (the default), or as a plain button. */
  accept?: boolean;
  /** Shown between the problems and the button, e.g. why it is disabled. */
  children?: React.ReactNode;
}

/**
 * The end of a form: what is wrong with it, the submit button (with its
 * busy text) and why the last submission failed.
 */
export function FormActions({
  testIdPrefix,
  submitTestId,
  problems,
  label,
  busyLabel,
  busy,
  disabled = false,
  error,
  accept = true,
  children
}: IFormActionsProps): JSX.Element {
  return (
    <>
      {problems.length > 0 && (
        <ProblemList problems={problems} testId={`${testIdPrefix}-problems`} />
      )}
      {children}
      <Button
        type="submit"
        className={accept ? 'jp-mod-styled jp-mod-accept' : 'jp-mod-styled'}
        small
        disabled={busy || disabled}
        data-testid={submitTestId ?? `${testIdPrefix}-submit`}
      >
        {busy ? busyLabel : label}
      </Button>
      <ActionError error={error} testId={`${testIdPrefix}-error`} />
    </>
  );
}
