import * as React from 'react';

import { isRestarting, LabdeckRequestError } from '../request';

/**
 * Why the data of a panel could not be fetched, as the server worded it. A
 * restarting control plane is a passing state the panel retries by itself:
 * a polite status, not an alert.
 */
export function ErrorAlert({
  error,
  testId
}: {
  error: LabdeckRequestError;
  testId: string;
}): JSX.Element {
  return (
    <div
      className="jp-labdeck-error"
      role={isRestarting(error) ? 'status' : 'alert'}
      data-testid={testId}
      data-code={error.code}
    >
      {error.message}
    </div>
  );
}

/** Shown until the first answer arrives. */
export function Loading({ testId }: { testId: string }): JSX.Element {
  return (
    <p className="jp-labdeck-loading" data-testid={testId}>
      Loading…
    </p>
  );
}

/** Why an action the user started (stop, connect, create...) failed. */
export function ActionError({
  error,
  testId
}: {
  error: string | null;
  testId: string;
}): JSX.Element | null {
  if (!error) {
    return null;
  }
  return (
    <p className="jp-labdeck-error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}

/** What is wrong with a form, one sentence a line, announced as it changes. */
export function ProblemList({
  problems,
  testId
}: {
  problems: readonly string[];
  testId: string;
}): JSX.Element {
  return (
    <ul className="jp-labdeck-problems" role="status" data-testid={testId}>
      {problems.map(problem => (
        <li key={problem}>{problem}</li>
      ))}
    </ul>
  );
}
