import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorAlert } from '../components/feedback';
import { SeriesChart } from '../components/seriesChart';
import { MetricsFollower } from './follower';
import { minuteSeries } from './logic';

/** Height of the metric charts in a deployment's tab, px. */
const CHART_HEIGHT = 160;

/**
 * An endpoint's per-minute metrics as charts: invocations and errors,
 * model and gateway latency, cold starts, replicas. The follower polls
 * them while the tab is open.
 */
export function DeploymentMetrics({
  follower
}: {
  follower: MetricsFollower;
}): JSX.Element {
  return (
    <UseSignal signal={follower.changed} initialSender={follower}>
      {() => <Charts follower={follower} />}
    </UseSignal>
  );
}

function Charts({ follower }: { follower: MetricsFollower }): JSX.Element {
  const minutes = follower.data;
  // Drawn up to the current minute; each poll renders again.
  const minute = Math.floor(Date.now() / 60_000);
  const data = React.useMemo(() => {
    const points = minutes ?? [];
    const now = minute * 60_000;
    return {
      invocations: minuteSeries(
        points,
        [
          ['invocations', 'Invocations', 'zero'],
          ['errors_4xx', '4xx', 'zero'],
          ['errors_5xx', '5xx', 'zero']
        ],
        now
      ),
      latency: minuteSeries(
        points,
        [
          ['model_latency_ms', 'Model', 'gap'],
          ['overhead_latency_ms', 'Overhead', 'gap']
        ],
        now
      ),
      coldStarts: minuteSeries(
        points,
        [['cold_starts', 'Cold starts', 'zero']],
        now
      ),
      replicas: minuteSeries(points, [['replicas', 'Replicas', 'carry']], now)
    };
  }, [minutes, minute]);
  const count = { label: 'Per minute', format: (v: number) => v.toFixed(0) };
  const empty = 'No calls yet.';
  return (
    <div
      className="jp-labdeck-deployment-metrics"
      data-testid="labdeck-deployment-metrics"
    >
      {follower.error && (
        <ErrorAlert
          error={follower.error}
          testId="labdeck-deployment-metrics-error"
        />
      )}
      <SeriesChart
        title="Invocations"
        data={data.invocations}
        yAxis={count}
        height={CHART_HEIGHT}
        emptyText={empty}
        testId="labdeck-deployment-invocations"
      />
      <SeriesChart
        title="Latency (mean per minute)"
        data={data.latency}
        yAxis={{ label: 'Latency', unit: 'ms', format: v => v.toFixed(2) }}
        height={CHART_HEIGHT}
        emptyText={empty}
        testId="labdeck-deployment-latency"
      />
      <SeriesChart
        title="Cold starts"
        data={data.coldStarts}
        yAxis={count}
        height={CHART_HEIGHT}
        emptyText={empty}
        testId="labdeck-deployment-cold-starts"
      />
      <SeriesChart
        title="Replicas"
        data={data.replicas}
        yAxis={{ label: 'Replicas', format: v => v.toFixed(0) }}
        height={CHART_HEIGHT}
        emptyText={empty}
        testId="labdeck-deployment-replicas"
      />
    </div>
  );
}
