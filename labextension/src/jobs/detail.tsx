import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IChartAxis } from '../components/chart';
import { ErrorAlert } from '../components/feedback';
import {
  ISeriesData,
  pickSeries,
  SeriesChart
} from '../components/seriesChart';
import { IJobsAPI } from './api';
import { JobFollower } from './follower';
import { gpuSeries, isLive, metricSeries } from './logic';
import { IJob } from './tokens';

/** Height of the charts in the sidebar, px. */
const SIDEBAR_CHART_HEIGHT = 120;

/**
 * An opened job: its log tail and its metric charts, kept fresh while it
 * is shown (a {@link JobFollower} lives as long as this component). The
 * sidebar and the job's tab both show it, the tab with taller charts.
 */
export function JobDetail({
  api,
  job,
  chartHeight = SIDEBAR_CHART_HEIGHT
}: {
  api: IJobsAPI;
  job: IJob;
  chartHeight?: number;
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
      {() => <Trace follower={follower} chartHeight={chartHeight} />}
    </UseSignal>
  );
}

/** One chart of a job. */
interface IJobChart {
  title: string;
  data: ISeriesData;
  yAxis: IChartAxis;
  /** Shown while there is no data; `null`: no chart without data. */
  emptyText: string | null;
  /** Last part of its test id. */
  testId: string;
}

function Trace({
  follower,
  chartHeight
}: {
  follower: JobFollower;
  chartHeight: number;
}): JSX.Element {
  const trace = follower.data;
  const training = React.useMemo(
    () => metricSeries(trace?.points ?? [], ['log', 'script']),
    [trace?.points]
  );
  const system = React.useMemo(
    () => metricSeries(trace?.points ?? [], ['system']),
    [trace?.points]
  );
  const mib: IChartAxis['format'] = v => v.toFixed(0);
  const charts: IJobChart[] = [
    {
      title: 'Training metrics',
      data: training,
      yAxis: { label: 'Value' },
      emptyText: 'No metrics yet.',
      testId: 'metrics'
    },
    {
      title: 'CPU',
      data: pickSeries(system, 'cpu_percent', 'CPU'),
      yAxis: { label: 'CPU', unit: '%' },
      emptyText: 'No CPU use measured yet.',
      testId: 'cpu'
    },
    {
      title: 'Memory',
      data: pickSeries(system, 'rss_bytes', 'Memory', 1 / 2 ** 20),
      yAxis: { label: 'Memory', unit: 'MiB', format: mib },
      emptyText: 'No memory use measured yet.',
      testId: 'memory'
    },
    // Only a job with GPUs has these series (NVML, one per device).
    {
      title: 'GPU',
      data: gpuSeries(system, 'utilization_percent'),
      yAxis: { label: 'GPU', unit: '%' },
      emptyText: null,
      testId: 'gpu'
    },
    {
      title: 'GPU memory',
      data: gpuSeries(system, 'memory_bytes', 1 / 2 ** 20),
      yAxis: { label: 'GPU memory', unit: 'MiB', format: mib },
      emptyText: null,
      testId: 'gpu-memory'
    }
  ];
  return (
    <div className="jp-labdeck-job-detail" data-testid="labdeck-jobs-detail">
      {follower.error && (
        <ErrorAlert error={follower.error} testId="labdeck-jobs-detail-error" />
      )}
      {charts
        .filter(
          chart => chart.emptyText !== null || chart.data.series.length > 0
        )
        .map(chart => (
          <SeriesChart
            key={chart.testId}
            title={chart.title}
            data={chart.data}
            yAxis={chart.yAxis}
            height={chartHeight}
            emptyText={chart.emptyText ?? ''}
            testId={`labdeck-jobs-${chart.testId}`}
          />
        ))}
      <LogTail
        text={trace?.log.text ?? ''}
        truncated={!!trace?.log.truncated}
      />
    </div>
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
