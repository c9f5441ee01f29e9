import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IChartAxis } from '../components/chart';
import { ErrorAlert } from '../components/feedback';
import { SeriesChart } from '../components/seriesChart';
import { MetricsFollower } from './follower';
import { MinuteField, minuteSeries } from './logic';

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

/** One chart of the tab: its fields, and how its values read. */
interface IChartDefinition {
  title: string;
  fields: readonly MinuteField[];
  yAxis: IChartAxis;
  /** Last part of its test id. */
  testId: string;
}

const COUNT: IChartAxis = {
  label: 'Per minute',
  format: (v: number) => v.toFixed(0)
};

const CHARTS: readonly IChartDefinition[] = [
  {
    title: 'Invocations',
    fields: [
      ['invocations', 'Invocations', 'zero'],
      ['errors_4xx', '4xx', 'zero'],
      ['errors_5xx', '5xx', 'zero']
    ],
    yAxis: COUNT,
    testId: 'invocations'
  },
  {
    title: 'Latency (mean per minute)',
    fields: [
      ['model_latency_ms', 'Model', 'gap'],
      ['overhead_latency_ms', 'Overhead', 'gap']
    ],
    yAxis: { label: 'Latency', unit: 'ms', format: v => v.toFixed(2) },
    testId: 'latency'
  },
  {
    title: 'Cold starts',
    fields: [['cold_starts', 'Cold starts', 'zero']],
    yAxis: COUNT,
    testId: 'cold-starts'
  },
  {
    title: 'Replicas',
    fields: [['replicas', 'Replicas', 'carry']],
    yAxis: { label: 'Replicas', format: v => v.toFixed(0) },
    testId: 'replicas'
  }
];

function Charts({ follower }: { follower: MetricsFollower }): JSX.Element {
  const minutes = follower.data;
  // Drawn up to the current minute; each poll renders again.
  const minute = Math.floor(Date.now() / 60_000);
  const data = React.useMemo(
    () =>
      CHARTS.map(chart =>
        minuteSeries(minutes ?? [], chart.fields, minute * 60_000)
      ),
    [minutes, minute]
  );
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
      {CHARTS.map((chart, index) => (
        <SeriesChart
          key={chart.testId}
          title={chart.title}
          data={data[index]}
          yAxis={chart.yAxis}
          height={CHART_HEIGHT}
          emptyText="No calls yet."
          testId={`labdeck-deployment-${chart.testId}`}
        />
      ))}
    </div>
  );
}
