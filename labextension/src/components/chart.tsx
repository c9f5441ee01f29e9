import * as React from 'react';
import uPlot from 'uplot';

/** Number of series colours (`jp-labdeck-series-<n>` in the stylesheet). */
export const SERIES_COLOURS = 6;

/**
 * Theme variables of the series colours, in `jp-labdeck-series-<n>` order,
 * with the light theme's values for when they are not set.
 */
const SERIES_VARIABLES: ReadonlyArray<[string, string]> = [
  ['--jp-brand-color1', '#1976d2'],
  ['--jp-warn-color1', '#f57c00'],
  ['--jp-success-color1', '#388e3c'],
  ['--jp-accent-color1', '#009688'],
  ['--jp-info-color1', '#0097a7'],
  ['--jp-error-color1', '#d32f2f']
];

/** Height of the plot of a line chart, px. */
const LINE_HEIGHT = 200;
/** Height of one bar's row and of the value axis, px. */
const BAR_ROW = 24;
const BAR_AXIS = 64;
const MAX_LABEL_CHARS = 18;
/** Width when the container has none yet (hidden, or not laid out). */
const FALLBACK_WIDTH = 480;

/** One series: a key (its colour slot), a name and one value per x. */
export interface IChartSeries {
  key: string;
  label: string;
  values: ReadonlyArray<number | null>;
}

/** An axis: its name and unit (shown as `name (unit)`). */
export interface IChartAxis {
  label: string;
  unit?: string;
  /**
   * Text of a value, without the unit, at bar ends, in the legend and in
   * the table (ticks keep uPlot's numbers, which suit their steps).
   */
  format?: (value: number) => string;
}

interface IChartCommon {
  /** Caption and accessible name. */
  title: string;
  series: IChartSeries[];
  /** The value axis. */
  yAxis: IChartAxis;
  /** All series keys in colour order; default: the keys of `series`. */
  colourKeys?: string[];
  /** Shown instead of the plot when there is no point. */
  emptyText?: string;
  testId?: string;
}

/**
 * Line chart: `x` ascending (steps, or epoch seconds with `xAxis.time`).
 * Appending points and rendering again redraws the existing plot.
 */
export interface ILineChartProps extends IChartCommon {
  kind: 'line';
  x: ReadonlyArray<number>;
  xAxis: IChartAxis & { time?: boolean };
  height?: number;
}

/** Horizontal bars, one per category, the series stacked. */
export interface IBarChartProps extends IChartCommon {
  kind: 'bars';
  categories: ReadonlyArray<string>;
}

export type ChartProps = ILineChartProps | IBarChartProps;

/**
 * A chart on uPlot (canvas; fast for thousands of points), as wide as its
 * container, in the JupyterLab theme's colours. Screen readers get the
 * caption and a table of the values; bars also get a legend.
 */
export function Chart(props: ChartProps): JSX.Element {
  const { title, series, yAxis, testId } = props;
  const captionId = React.useId();
  const container = React.useRef<HTMLDivElement>(null);
  const plot = React.useRef<uPlot | null>(null);
  // Options read the latest props (formatters, labels) through this ref,
  // so a new closure each render does not rebuild the plot.
  const latest = React.useRef(props);
  latest.current = props;
  const theme = useThemeName();
  const colourKeys = props.colourKeys ?? series.map(s => s.key);
  const count =
    props.kind === 'line' ? props.x.length : props.categories.length;
  const empty = count === 0 || series.length === 0;
  // What needs a new plot; data alone does not.
  const structure = JSON.stringify([
    props.kind,
    series.map(s => [s.key, s.label]),
    colourKeys,
    yAxis.label,
    yAxis.unit,
    props.kind === 'line'
      ? [props.xAxis.label, props.xAxis.unit, props.xAxis.time]
      : null,
    props.kind === 'line' ? props.height : null,
    theme,
    empty
  ]);

  React.useEffect(() => {
    const element = container.current;
    if (!element || empty) {
      return;
    }
    const width = element.clientWidth || FALLBACK_WIDTH;
    const created = new uPlot(
      options(() => latest.current, themeColours(element), width),
      plotData(latest.current),
      element
    );
    plot.current = created;
    // Follow the container's width (panel resized, sidebar toggled).
    const observer = new ResizeObserver(entries => {
      const entry = entries[entries.length - 1];
      const newWidth = Math.floor(entry.contentRect.width);
      if (newWidth > 0 && newWidth !== created.width) {
        created.setSize({ width: newWidth, height: created.height });
      }
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      created.destroy();
      plot.current = null;
    };
    // `structure` stands for the props it is made of.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [structure]);

  // New data: redraw the existing plot (and fit the bars' height).
  React.useEffect(() => {
    const current = plot.current;
    if (!current) {
      return;
    }
    const height = plotHeight(props);
    if (height !== current.height) {
      current.setSize({ width: current.width, height });
    }
    current.setData(plotData(props));
  });

  const colour = (key: string): string => {
    const index = colourKeys.indexOf(key);
    return `jp-labdeck-series-${(index < 0 ? 0 : index) % SERIES_COLOURS}`;
  };
  const unitSuffix = yAxis.unit ? ` (${yAxis.unit})` : '';
  return (
    <figure
      className="jp-labdeck-chart"
      data-testid={testId}
      aria-labelledby={captionId}
    >
      <figcaption id={captionId} className="jp-labdeck-chart-title">
        {title}
      </figcaption>
      {empty ? (
        <p className="jp-labdeck-muted">{props.emptyText ?? 'No data.'}</p>
      ) : (
        <>
          <div
            ref={container}
            className="jp-labdeck-chart-plot"
            role="img"
            aria-label={`${title}: ${yAxis.label}${unitSuffix}`}
            data-kind={props.kind}
          />
          {props.kind === 'bars' && series.length > 1 && (
            <ul className="jp-labdeck-chart-legend" aria-hidden="true">
              {series.map(s => (
                <li key={s.key}>
                  <span
                    className={`jp-labdeck-chart-swatch ${colour(s.key)}`}
                  />
                  {s.label}
                </li>
              ))}
            </ul>
          )}
          <ValueTable {...props} />
        </>
      )}
    </figure>
  );
}

/** The chart's values as a table for screen readers (visually hidden). */
function ValueTable(props: ChartProps): JSX.Element {
  const { series, yAxis, title } = props;
  const text = (value: number | null | undefined): string =>
    value === null || value === undefined || !Number.isFinite(value)
      ? '–'
      : `${formatValue(yAxis, value)}${yAxis.unit ? ` ${yAxis.unit}` : ''}`;
  if (props.kind === 'bars') {
    return (
      <table className="jp-labdeck-visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            {series.map(s => (
              <th scope="col" key={s.key}>
                {s.label}
              </th>
            ))}
            {series.length > 1 && <th scope="col">Total</th>}
          </tr>
        </thead>
        <tbody>
          {props.categories.map((category, i) => (
            <tr key={category}>
              <th scope="row">{category}</th>
              {series.map(s => (
                <td key={s.key}>{text(s.values[i])}</td>
              ))}
              {series.length > 1 && <td>{text(stackTotal(series, i))}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  // A line has too many points for a table: its last, lowest and highest.
  return (
    <table className="jp-labdeck-visually-hidden">
      <caption>{`${title}: ${props.x.length} points`}</caption>
      <thead>
        <tr>
          <th scope="col">Series</th>
          <th scope="col">Last</th>
          <th scope="col">Lowest</th>
          <th scope="col">Highest</th>
        </tr>
      </thead>
      <tbody>
        {series.map(s => {
          const { last, min, max } = summarise(s.values);
          return (
            <tr key={s.key}>
              <th scope="row">{s.label}</th>
              <td>{text(last)}</td>
              <td>{text(min)}</td>
              <td>{text(max)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Colours and font of the theme, resolved for the canvas. */
interface IThemeColours {
  text: string;
  muted: string;
  grid: string;
  font: string;
  series: string[];
}

function themeColours(element: HTMLElement): IThemeColours {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string): string =>
    style.getPropertyValue(name).trim() || fallback;
  const family = read('--jp-ui-font-family', 'sans-serif');
  return {
    text: read('--jp-ui-font-color1', '#212121'),
    muted: read('--jp-ui-font-color2', '#616161'),
    grid: read('--jp-border-color2', '#e0e0e0'),
    font: `11px ${family}`,
    series: SERIES_VARIABLES.map(([name, fallback]) => read(name, fallback))
  };
}

/**
 * The theme's name, following JupyterLab's theme switches (the body's
 * `data-jp-theme-name`), so the canvas is redrawn in the new colours.
 */
function useThemeName(): string {
  const read = (): string => document.body.dataset.jpThemeName ?? '';
  const [name, setName] = React.useState(read);
  React.useEffect(() => {
    const observer = new MutationObserver(() => setName(read()));
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return name;
}

function formatValue(axis: IChartAxis, value: number): string {
  return axis.format ? axis.format(value) : String(value);
}

function axisTitle(axis: IChartAxis): string {
  return axis.unit ? `${axis.label} (${axis.unit})` : axis.label;
}

function stackTotal(series: IChartSeries[], index: number): number {
  return series.reduce((sum, s) => sum + (s.values[index] ?? 0), 0);
}

function summarise(values: ReadonlyArray<number | null>): {
  last: number | null;
  min: number | null;
  max: number | null;
} {
  let last: number | null = null;
  let min: number | null = null;
  let max: number | null = null;
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) {
      continue;
    }
    last = value;
    min = min === null ? value : Math.min(min, value);
    max = max === null ? value : Math.max(max, value);
  }
  return { last, min, max };
}

function plotHeight(props: ChartProps): number {
  return props.kind === 'line'
    ? (props.height ?? LINE_HEIGHT)
    : BAR_AXIS + Math.max(1, props.categories.length) * BAR_ROW;
}

/**
 * uPlot's columns. Stacked bars are drawn as cumulative bars from 0, the
 * longest first so the shorter ones paint over it: series in reverse.
 */
function plotData(props: ChartProps): uPlot.AlignedData {
  if (props.kind === 'line') {
    return [
      props.x as number[],
      ...props.series.map(s => s.values as (number | null)[])
    ];
  }
  const indices = props.categories.map((_, i) => i);
  const running = indices.map(() => 0);
  const cumulative = props.series.map(s =>
    indices.map(i => (running[i] += Math.max(0, s.values[i] ?? 0)))
  );
  return [indices, ...cumulative.reverse()];
}

function truncate(label: string): string {
  return label.length > MAX_LABEL_CHARS
    ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…`
    : label;
}

/**
 * uPlot options. What may change without a new plot (categories,
 * formatters) is read through `get` when drawing.
 */
function options(
  get: () => ChartProps,
  colours: IThemeColours,
  width: number
): uPlot.Options {
  const props = get();
  const colourOf = (key: string): string => {
    const keys = props.colourKeys ?? props.series.map(s => s.key);
    const index = Math.max(0, keys.indexOf(key));
    return colours.series[index % colours.series.length];
  };
  const axisStyle = {
    stroke: colours.muted,
    font: colours.font,
    labelFont: `600 ${colours.font}`,
    grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid, width: 1 }
  };
  const withUnit = (value: number): string => {
    const { yAxis } = get();
    return `${formatValue(yAxis, value)}${yAxis.unit ? ` ${yAxis.unit}` : ''}`;
  };
  if (props.kind === 'line') {
    return {
      width,
      height: plotHeight(props),
      scales: { x: { time: props.xAxis.time ?? false } },
      legend: { show: true, live: true },
      series: [
        { label: axisTitle(props.xAxis) },
        ...props.series.map(s => ({
          label: s.label,
          stroke: colourOf(s.key),
          width: 1.5,
          spanGaps: true,
          value: (_: uPlot, value: number | null) =>
            value === null ? '–' : withUnit(value)
        }))
      ],
      axes: [
        { ...axisStyle, label: axisTitle(props.xAxis) },
        { ...axisStyle, label: axisTitle(props.yAxis) }
      ]
    };
  }
  // Bars: categories down the left (x scale vertical), values along.
  const categories = (): ReadonlyArray<string> =>
    (get() as IBarChartProps).categories;
  const bars = uPlot.paths.bars!({ size: [0.7, BAR_ROW - 6] });
  const drawn = [...props.series].reverse();
  return {
    width,
    height: plotHeight(props),
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: {
        time: false,
        ori: 1,
        dir: -1,
        range: () => [-0.5, Math.max(0, categories().length - 1) + 0.5]
      },
      y: {
        ori: 0,
        dir: 1,
        range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1]
      }
    },
    series: [
      {},
      ...drawn.map(s => ({
        label: s.label,
        fill: colourOf(s.key),
        stroke: colourOf(s.key),
        width: 0,
        paths: bars,
        points: { show: false }
      }))
    ],
    axes: [
      {
        ...axisStyle,
        side: 3,
        grid: { show: false },
        splits: () => categories().map((_, i) => i),
        values: () => categories().map(truncate),
        // Room for the longest (truncated) label.
        size: () =>
          12 +
          6.5 *
            Math.max(
              4,
              ...categories().map(c => Math.min(c.length, MAX_LABEL_CHARS))
            )
      },
      {
        ...axisStyle,
        side: 2,
        size: 28,
        labelSize: 20,
        label: axisTitle(props.yAxis)
      }
    ],
    hooks: {
      // The total at the end of each bar, with its unit.
      draw: [
        u => {
          const totals = u.data[1] as (number | null)[] | undefined;
          if (!totals) {
            return;
          }
          const ctx = u.ctx;
          ctx.save();
          ctx.font = scaled(colours.font, uPlot.pxRatio);
          ctx.fillStyle = colours.text;
          ctx.textBaseline = 'middle';
          ctx.textAlign = 'left';
          totals.forEach((total, i) => {
            if (total === null) {
              return;
            }
            ctx.fillText(
              withUnit(total),
              u.valToPos(total, 'y', true) + 4 * uPlot.pxRatio,
              u.valToPos(i, 'x', true)
            );
          });
          ctx.restore();
        }
      ]
    }
  };
}

/** A `11px family` font with the size in canvas pixels. */
function scaled(font: string, ratio: number): string {
  return font.replace(/^(\d+)px/, (_, size) => `${Number(size) * ratio}px`);
}
