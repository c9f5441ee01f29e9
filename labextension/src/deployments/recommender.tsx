import { Button, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError, ErrorAlert } from '../components/feedback';
import { Fields, FormActions, NumberField } from '../components/fields';
import { Meter } from '../components/meter';
import { formatBytes } from '../format';
import { useAction } from '../hooks';
import { RecommendationFollower } from './follower';
import {
  isRecommended,
  recommendationProgress,
  recommendationRequest
} from './logic';
import {
  DEFAULT_LATENCY_TARGET_MS,
  IDeployment,
  IRecommendationResult,
  IRecommendationRun,
  RECOMMENDER_CANDIDATES,
  RECOMMENDER_DURATION_SECONDS
} from './tokens';

/** Props of {@link Recommender}. */
export interface IRecommenderProps {
  deployment: IDeployment;
  follower: RecommendationFollower;
  /** The test form's payload: what the load test sends. */
  payload: string;
  /** Serve with `replicas` (a `PUT` of the deployment). */
  onApply: (replicas: number) => Promise<unknown>;
}

/**
 * "Recommend a configuration": load-tests a few configurations with the
 * test payload, shows throughput, latency, errors and memory of each, the
 * cheapest one meeting the user's latency target marked, and applies it.
 */
export function Recommender(props: IRecommenderProps): JSX.Element {
  return (
    <UseSignal signal={props.follower.changed} initialSender={props.follower}>
      {() => <RecommenderBody {...props} />}
    </UseSignal>
  );
}

function RecommenderBody({
  deployment,
  follower,
  payload,
  onApply
}: IRecommenderProps): JSX.Element {
  const [target, setTarget] = React.useState(DEFAULT_LATENCY_TARGET_MS);
  const [touched, setTouched] = React.useState(false);
  const { busy, error, run, clearError } = useAction<'run'>();
  const check = recommendationRequest(payload, target);
  const current = follower.run;
  const running = current?.state === 'RUNNING';

  const start = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    const request = check.request;
    if (!request || busy || running) {
      return;
    }
    await run('run', () => follower.launch(request));
  };

  const configurations = RECOMMENDER_CANDIDATES.map(
    c => `${c.replicas} ${c.replicas === 1 ? 'replica' : 'replicas'}`
  ).join(' and ');
  return (
    <div
      className="jp-labdeck-deployment-recommender"
      data-testid="labdeck-deployment-recommender"
    >
      <form
        className="jp-labdeck-create-form"
        aria-label="Recommend a configuration"
        onSubmit={event => void start(event)}
      >
        <p className="jp-labdeck-muted">
          Load-tests {configurations} for {RECOMMENDER_DURATION_SECONDS} s each
          with the test payload, and recommends the cheapest meeting your
          latency target (p99).
        </p>
        <Fields layout="grid" disabled={busy !== null || running}>
          <NumberField
            label="Latency target (ms)"
            min={0}
            step="any"
            value={target}
            testId="labdeck-deployment-recommend-target"
            onChange={value => {
              setTarget(value);
              setTouched(true);
              clearError();
            }}
          />
        </Fields>
        <FormActions
          testIdPrefix="labdeck-deployment-recommend"
          submitTestId="labdeck-deployment-recommend-run"
          problems={touched ? check.problems : []}
          label="Recommend a configuration"
          busyLabel="Load-testing…"
          busy={running || busy !== null}
          error={error}
          accept={false}
        />
      </form>
      {follower.error && (
        <ErrorAlert
          error={follower.error}
          testId="labdeck-deployment-recommend-poll-error"
        />
      )}
      {current && (
        <RunResults run={current} deployment={deployment} onApply={onApply} />
      )}
    </div>
  );
}

function RunResults({
  run: current,
  deployment,
  onApply
}: {
  run: IRecommendationRun;
  deployment: IDeployment;
  onApply: (replicas: number) => Promise<unknown>;
}): JSX.Element {
  const { busy, error, run } = useAction<'apply'>();
  const [applied, setApplied] = React.useState<number | null>(null);
  const best = current.recommended;
  const fraction =
    current.progress && current.progress.total > 0
      ? current.progress.done / current.progress.total
      : 0;
  const realtime = deployment.spec.mode === 'realtime';
  const apply = async (): Promise<void> => {
    if (best && (await run('apply', () => onApply(best.replicas)))) {
      setApplied(best.replicas);
    }
  };
  return (
    <div
      className="jp-labdeck-deployment-run"
      data-testid="labdeck-deployment-recommend-state"
      data-state={current.state}
    >
      {current.state === 'RUNNING' && (
        <Meter
          label="Recommender"
          text={recommendationProgress(current)}
          fraction={fraction}
          testId="labdeck-deployment-recommend-progress"
        />
      )}
      {current.state === 'FAILED' && (
        <p
          className="jp-labdeck-error"
          data-testid="labdeck-deployment-recommend-reason"
        >
          {current.reason || 'The load test failed.'}
        </p>
      )}
      {current.results.length > 0 && <ResultTable run={current} />}
      {current.state === 'COMPLETED' && !best && (
        <p
          className="jp-labdeck-muted"
          data-testid="labdeck-deployment-recommend-none"
        >
          {current.reason ||
            'No configuration met the latency target without errors.'}{' '}
          Try a higher target, or a lighter model.
        </p>
      )}
      {current.state === 'COMPLETED' && best && (
        <div className="jp-labdeck-job-actions">
          <span data-testid="labdeck-deployment-recommend-best">
            Recommended: {best.replicas}{' '}
            {best.replicas === 1 ? 'replica' : 'replicas'} (p99 {best.p99_ms}{' '}
            ms, target {current.latency_target_ms} ms).
          </span>
          {realtime ? (
            <Button
              className="jp-mod-styled jp-mod-accept"
              small
              disabled={
                busy !== null ||
                deployment.state !== 'IN_SERVICE' ||
                deployment.spec.replicas === best.replicas
              }
              title={
                deployment.spec.replicas === best.replicas
                  ? 'It already serves with this configuration'
                  : `Serve with ${best.replicas} replicas`
              }
              data-testid="labdeck-deployment-recommend-apply"
              onClick={() => void apply()}
            >
              {busy ? 'Applying…' : 'Apply'}
            </Button>
          ) : (
            <span className="jp-labdeck-muted">
              A serverless deployment runs one replica while it is called:
              deploy it as realtime to serve with more.
            </span>
          )}
        </div>
      )}
      {applied !== null && (
        <p
          className="jp-labdeck-muted"
          role="status"
          data-testid="labdeck-deployment-recommend-applied"
        >
          Applied: it now changes to {applied}{' '}
          {applied === 1 ? 'replica' : 'replicas'}, with no request failing
          meanwhile.
        </p>
      )}
      <ActionError
        error={error}
        testId="labdeck-deployment-recommend-apply-error"
      />
    </div>
  );
}

function ResultTable({ run }: { run: IRecommendationRun }): JSX.Element {
  return (
    <table
      className="jp-labdeck-deployment-results"
      data-testid="labdeck-deployment-recommend-table"
    >
      <caption className="jp-labdeck-visually-hidden">
        Load test of each configuration
      </caption>
      <thead>
        <tr>
          <th scope="col">Replicas</th>
          <th scope="col">Workers</th>
          <th scope="col">Throughput (req/s)</th>
          <th scope="col">p50 (ms)</th>
          <th scope="col">p99 (ms)</th>
          <th scope="col">Errors</th>
          <th scope="col">Memory</th>
          <th scope="col">
            <span className="jp-labdeck-visually-hidden">Recommended</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {run.results.map(result => (
          <ResultRow
            key={`${result.replicas}/${result.workers}`}
            result={result}
            recommended={isRecommended(run, result)}
          />
        ))}
      </tbody>
    </table>
  );
}

function ResultRow({
  result,
  recommended
}: {
  result: IRecommendationResult;
  recommended: boolean;
}): JSX.Element {
  return (
    <tr
      className={recommended ? 'jp-mod-recommended' : undefined}
      data-testid="labdeck-deployment-recommend-row"
      data-recommended={recommended ? 'true' : 'false'}
    >
      <td>{result.replicas}</td>
      <td>{result.workers}</td>
      <td>{result.throughput_rps}</td>
      <td>{result.p50_ms}</td>
      <td>{result.p99_ms}</td>
      <td>{result.errors}</td>
      <td>{formatBytes(result.memory_bytes)}</td>
      <td>
        {recommended && <span className="jp-labdeck-badge">recommended</span>}
      </td>
    </tr>
  );
}
