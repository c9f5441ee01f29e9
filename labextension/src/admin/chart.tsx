import * as React from 'react';

import { Chart } from '../components/chart';
import { formatAmount, pickDurationUnit } from '../durationUnit';
import { barSeries, IBar } from './chartData';

/** Props of {@link UsageBarChart}. */
export interface IUsageBarChartProps {
  /** Accessible name, also the heading. */
  title: string;
  bars: IBar[];
  /** All series keys, in legend (and colour) order. */
  series: string[];
  /** Name of a series in the legend and the table. */
  seriesLabel?: (key: string) => string;
  testId?: string;
}

/**
 * Usage time as horizontal bars, one per item, stacked by series, in the
 * unit that suits the longest bar (`s`, `min` or `h`).
 */
export function UsageBarChart({
  title,
  bars,
  series,
  seriesLabel = key => key,
  testId
}: IUsageBarChartProps): JSX.Element {
  const unit = pickDurationUnit(bars.map(b => b.total));
  return (
    <Chart
      kind="bars"
      title={title}
      categories={bars.map(b => b.label)}
      series={barSeries(bars, series, seriesLabel, unit)}
      colourKeys={series}
      yAxis={{ label: 'Time', unit, format: formatAmount }}
      emptyText="No usage in this period."
      testId={testId}
    />
  );
}
