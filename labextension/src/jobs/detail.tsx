import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorAlert } from '../components/feedback';
import { pickSeries, SeriesChart } from '../components/seriesChart';
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
  const cpu = pickSeries(system, 'cpu_percent', 'CPU');
  const memory = pickSeries(system, 'rss_bytes', 'Memory', 1 / 2 ** 20);
  // Only a job with GPUs has these series (NVML, one per device).
  const gpuUse = gpuSeries(system, 'utilization_percent');
  const gpuMemory = gpuSeries(system, 'memory_bytes', 1 / 2 ** 20);
  return (
    <div className="jp-labdeck-job-detail" data-testid="labdeck-jobs-detail">
      {follower.error && (
        <ErrorAlert error={follower.error} testId="labdeck-jobs-detail-error" />
      )}
      <SeriesChart
        title="Training metrics"
        data={training}
        yAxis={{ label: 'Value' }}
        height={chartHeight}
        emptyText="No metrics yet."
        testId="labdeck-jobs-metrics"
      />
      <SeriesChart
        title="CPU"
        data={cpu}
        yAxis={{ label: 'CPU', unit: '%' }}
        height={chartHeight}
        emptyText="No CPU use measured yet."
        testId="labdeck-jobs-cpu"
      />
      <SeriesChart
        title="Memory"
        data={memory}
        yAxis={{ label: 'Memory', unit: 'MiB', format: v => v.toFixed(0) }}
        height={chartHeight}
        emptyText="No memory use measured yet."
        testId="labdeck-jobs-memory"
      />
      {gpuUse.series.length > 0 && (
        <SeriesChart
          title="GPU"
          data={gpuUse}
          yAxis={{ label: 'GPU', unit: '%' }}
          height={chartHeight}
          emptyText=""
          testId="labdeck-jobs-gpu"
        />
      )}
      {gpuMemory.series.length > 0 && (
        <SeriesChart
          title="GPU memory"
          data={gpuMemory}
          yAxis={{
            label: 'GPU memory',
            unit: 'MiB',
            format: v => v.toFixed(0)
          }}
          height={chartHeight}
          emptyText=""
          testId="labdeck-jobs-gpu-memory"
        />
      )}
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
