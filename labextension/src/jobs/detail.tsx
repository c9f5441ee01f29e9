import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Chart, IChartAxis } from '../components/chart';
import { ErrorAlert } from '../components/feedback';
import { IJobsAPI } from './api';
import { JobFollower } from './follower';
import { IMetricSeries, isLive, metricSeries, pickSeries } from './logic';
import { IJob } from './tokens';

/**
 * An opened job: its log tail and its metric charts, kept fresh while it
 * is shown (a {@link JobFollower} lives as long as this component).
 */
export function JobDetail({
  api,
  job
}: {
  api: IJobsAPI;
  job: IJob;
}): JSX.Element {
  const [follower] = React.useState(() => new JobFollower(api, job.id));
  const live = isLive(job.state);
  React.useEffect(() => {
    follower.start();
    return () => follower.dispose();
  }, [follower]);
  React.useEffect(() => {
    follower.live = live;
    if (!live) {
      // Read what the job wrote before it ended.
      void follower.refresh();
    }
  }, [follower, live]);
  return (
    <UseSignal signal={follower.changed} initialSender={follower}>
      {() => <Trace follower={follower} />}
    </UseSignal>
  );
}

function Trace({ follower }: { follower: JobFollower }): JSX.Element {
  const trace = follower.data;
  const training = React.useMemo(
    () => metricSeries(trace?.points ?? [], ['log', 'script']),
    [trace?.points]
  );
  const system = React.useMemo(
    () => metricSeries(trace?.points ?? [], ['system']),
    [trace?.points]
  );
  const cpu = pickSeries(system, 'cpu_percent', 'CPU');
  const memory = pickSeries(system, 'rss_bytes', 'Memory', 1 / 2 ** 20);
  return (
    <div className="jp-labdeck-job-detail" data-testid="labdeck-jobs-detail">
      {follower.error && (
        <ErrorAlert error={follower.error} testId="labdeck-jobs-detail-error" />
      )}
      <MetricChart
        title="Training metrics"
        data={training}
        yAxis={{ label: 'Value' }}
        emptyText="No metrics yet."
        testId="labdeck-jobs-metrics"
      />
      <MetricChart
        title="CPU"
        data={cpu}
        yAxis={{ label: 'CPU', unit: '%' }}
        emptyText="No CPU use measured yet."
        testId="labdeck-jobs-cpu"
      />
      <MetricChart
        title="Memory"
        data={memory}
        yAxis={{ label: 'Memory', unit: 'MiB', format: v => v.toFixed(0) }}
        emptyText="No memory use measured yet."
        testId="labdeck-jobs-memory"
      />
      <LogTail
        text={trace?.log.text ?? ''}
        truncated={!!trace?.log.truncated}
      />
    </div>
  );
}

function MetricChart({
  title,
  data,
  yAxis,
  emptyText,
  testId
}: {
  title: string;
  data: IMetricSeries;
  yAxis: IChartAxis;
  emptyText: string;
  testId: string;
}): JSX.Element {
  return (
    <Chart
      kind="line"
      title={title}
      x={data.x}
      series={data.series}
      xAxis={{ label: data.time ? 'Time' : 'Step', time: data.time }}
      yAxis={yAxis}
      height={120}
      emptyText={emptyText}
      testId={testId}
    />
  );
}

/** The end of the log, scrolled to the bottom as it grows. */
function LogTail({
  text,
  truncated
}: {
  text: string;
  truncated: boolean;
}): JSX.Element {
  const pre = React.useRef<HTMLPreElement>(null);
  React.useEffect(() => {
    const element = pre.current;
    if (element) {
      element.scrollTop = element.scrollHeight;
    }
  }, [text]);
  return (
    <pre
      ref={pre}
      className="jp-labdeck-job-log"
      aria-label="Job log"
      data-testid="labdeck-jobs-log"
    >
      {truncated ? '…\n' : ''}
      {text || 'Nothing logged yet.'}
    </pre>
  );
}
