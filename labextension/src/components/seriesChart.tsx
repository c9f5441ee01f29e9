import * as React from 'react';

import { Chart, IChartAxis, IChartSeries } from './chart';

/** Data of one line chart: x values and one series per measure. */
export interface ISeriesData {
  x: number[];
  series: IChartSeries[];
  /** Whether `x` is epoch seconds (else steps). */
  time: boolean;
}

/** One series of `data` (e.g. `rss_bytes`), relabelled and scaled. */
export function pickSeries(
  data: ISeriesData,
  key: string,
  label: string,
  scale = 1
): ISeriesData {
  const found = data.series.find(s => s.key === key);
  return {
    x: found ? data.x : [],
    series: found
      ? [
          {
            key,
            label,
            values: found.values.map(v => (v === null ? null : v * scale))
          }
        ]
      : [],
    time: data.time
  };
}

/**
 * A line chart of {@link ISeriesData}, by time or by step: the charts of
 * a job's metrics and of a deployment's invocations.
 */
export function SeriesChart({
  title,
  data,
  yAxis,
  height,
  emptyText,
  testId
}: {
  title: string;
  data: ISeriesData;
  yAxis: IChartAxis;
  height: number;
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
      height={height}
      emptyText={emptyText}
      testId={testId}
    />
  );
}
