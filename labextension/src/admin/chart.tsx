import * as React from 'react';

import { axisTicks, IBar, scaleLength } from './chartData';

/** Geometry of the chart, in SVG user units (the SVG scales to its box). */
const WIDTH = 640;
const LABEL_WIDTH = 128;
const VALUE_WIDTH = 64;
const AXIS_HEIGHT = 20;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 14;
const PLOT_WIDTH = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
const MAX_LABEL_CHARS = 18;

/** Number of series colours in the stylesheet (`jp-labdeck-series-<n>`). */
export const SERIES_COLOURS = 6;

/** Props of {@link BarChart}. */
export interface IBarChartProps {
  /** Accessible name, also the heading. */
  title: string;
  bars: IBar[];
  /** All series keys, in legend (and colour) order. */
  series: string[];
  /** Name of a series in the legend and tooltips. */
  seriesLabel?: (key: string) => string;
  testId?: string;
}

/**
 * Horizontal bar chart in plain SVG: one bar per item, stacked by series,
 * hours on a shared axis from 0. Colours come from `--jp-*` theme colours.
 */
export function BarChart({
  title,
  bars,
  series,
  seriesLabel = key => key,
  testId
}: IBarChartProps): JSX.Element {
  const max = Math.max(0, ...bars.map(b => b.total));
  const ticks = axisTicks(max);
  const top = ticks[ticks.length - 1];
  const height = AXIS_HEIGHT + Math.max(1, bars.length) * ROW_HEIGHT + 4;
  const colour = (key: string): string => {
    const index = series.indexOf(key);
    return `jp-labdeck-series-${(index < 0 ? 0 : index) % SERIES_COLOURS}`;
  };
  return (
    <figure className="jp-labdeck-chart" data-testid={testId}>
      <figcaption className="jp-labdeck-chart-title">{title}</figcaption>
      {bars.length === 0 ? (
        <p className="jp-labdeck-muted">No usage in this period.</p>
      ) : (
        <svg
          className="jp-labdeck-chart-svg"
          viewBox={`0 0 ${WIDTH} ${height}`}
          width="100%"
          role="img"
          aria-label={title}
        >
          {ticks.map(tick => {
            const x = LABEL_WIDTH + scaleLength(tick, top, PLOT_WIDTH);
            return (
              <g key={tick} className="jp-labdeck-chart-tick">
                <line x1={x} x2={x} y1={AXIS_HEIGHT - 4} y2={height} />
                <text x={x} y={AXIS_HEIGHT - 8} textAnchor="middle">
                  {`${tick} h`}
                </text>
              </g>
            );
          })}
          {bars.map((bar, row) => {
            const y = AXIS_HEIGHT + row * ROW_HEIGHT;
            let x = LABEL_WIDTH;
            return (
              <g key={bar.label} className="jp-labdeck-chart-row">
                <text
                  className="jp-labdeck-chart-label"
                  x={LABEL_WIDTH - 6}
                  y={y + ROW_HEIGHT / 2}
                  textAnchor="end"
                  dominantBaseline="middle"
                >
                  <title>{bar.label}</title>
                  {truncate(bar.label)}
                </text>
                {bar.segments.map(segment => {
                  const width = scaleLength(segment.value, top, PLOT_WIDTH);
                  const rect = (
                    <rect
                      key={segment.key}
                      className={`jp-labdeck-chart-bar ${colour(segment.key)}`}
                      data-series={segment.key}
                      x={x}
                      y={y + (ROW_HEIGHT - BAR_HEIGHT) / 2}
                      width={width}
                      height={BAR_HEIGHT}
                    >
                      <title>
                        {`${bar.label} · ${seriesLabel(segment.key)}: ${formatValue(segment.value)} h`}
                      </title>
                    </rect>
                  );
                  x += width;
                  return rect;
                })}
                <text
                  className="jp-labdeck-chart-value"
                  x={x + 4}
                  y={y + ROW_HEIGHT / 2}
                  dominantBaseline="middle"
                >
                  {`${formatValue(bar.total)} h`}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      {series.length > 1 && bars.length > 0 && (
        <ul className="jp-labdeck-chart-legend">
          {series.map(key => (
            <li key={key}>
              <span className={`jp-labdeck-chart-swatch ${colour(key)}`} />
              {seriesLabel(key)}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

/** Hours with one decimal, without a trailing `.0` noise for big values. */
function formatValue(hours: number): string {
  return hours >= 100 ? hours.toFixed(0) : hours.toFixed(1);
}

function truncate(label: string): string {
  return label.length > MAX_LABEL_CHARS
    ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…`
    : label;
}
