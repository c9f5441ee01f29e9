import * as React from 'react';

import { FormActions, TextAreaField } from '../components/fields';
import { useAction } from '../hooks';
import { formatBody, parsePayload } from './logic';
import { IInvocationResult } from './tokens';

/** Props of {@link TestForm}. */
export interface ITestFormProps {
  /** The payload typed (shared with the snippets and the recommender). */
  payload: string;
  onPayloadChange: (payload: string) => void;
  /** Call the endpoint with the payload; resolves with its answer. */
  onSend: (payload: string) => Promise<IInvocationResult>;
}

/**
 * Calls the endpoint as its clients do, from the browser: a JSON payload,
 * Send, and the answer's status, latency and body (an error answer too).
 */
export function TestForm({
  payload,
  onPayloadChange,
  onSend
}: ITestFormProps): JSX.Element {
  const [result, setResult] = React.useState<IInvocationResult | null>(null);
  const [touched, setTouched] = React.useState(false);
  const { busy, error, run, clearError } = useAction<'send'>();
  const parsed = parsePayload(payload);

  const send = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!parsed.ok || busy) {
      return;
    }
    await run('send', async () => setResult(await onSend(payload)));
  };

  const ok = result !== null && result.status < 400;
  return (
    <form
      className="jp-labdeck-deployment-test"
      aria-label="Test the endpoint"
      onSubmit={event => void send(event)}
    >
      <TextAreaField
        label="Payload (JSON)"
        rows={4}
        value={payload}
        spellCheck={false}
        testId="labdeck-deployment-test-payload"
        onChange={value => {
          onPayloadChange(value);
          setTouched(true);
          clearError();
        }}
      />
      <FormActions
        testIdPrefix="labdeck-deployment-test"
        submitTestId="labdeck-deployment-test-send"
        problems={touched && !parsed.ok ? [parsed.problem] : []}
        label="Send"
        busyLabel="Sending…"
        busy={busy !== null}
        error={error}
      />
      {result && (
        <div
          className="jp-labdeck-deployment-answer"
          data-testid="labdeck-deployment-test-result"
          data-status={result.status}
        >
          <p>
            <span
              className={ok ? 'jp-labdeck-deployment-ok' : 'jp-labdeck-error'}
              data-testid="labdeck-deployment-test-status"
            >
              {result.status} {result.statusText}
            </span>
            {' · '}
            <span data-testid="labdeck-deployment-test-latency">
              {result.latencyMs.toFixed(1)} ms
            </span>{' '}
            <span className="jp-labdeck-muted">
              (round trip from this browser)
            </span>
          </p>
          <pre
            className="jp-labdeck-job-log"
            aria-label="Answer"
            data-testid="labdeck-deployment-test-body"
          >
            {formatBody(result.body, result.contentType) || '(empty answer)'}
          </pre>
        </div>
      )}
    </form>
  );
}
