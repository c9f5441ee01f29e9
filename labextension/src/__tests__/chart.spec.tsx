import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { Chart, ChartProps } from '../components/chart';
import { settle } from './utils';

/** Text the stubbed 2D context saw drawn since the canvas was cleared. */
function drawnText(root: HTMLElement): string[] {
  const canvas = root.querySelector('canvas') as
    (HTMLCanvasElement & { __drawnText?: string[] }) | null;
  return canvas?.__drawnText ?? [];
}

function hiddenTable(root: HTMLElement): string[][] {
  const table = root.querySelector('table.jp-labdeck-visually-hidden');
  return Array.from(table?.querySelectorAll('tbody tr') ?? []).map(tr =>
    Array.from(tr.children).map(cell => cell.textContent ?? '')
  );
}

/** A chart whose props the test can change, as a lab panel would. */
class ChartWidget extends ReactWidget {
  constructor(public props: ChartProps) {
    super();
  }
  protected render(): JSX.Element {
    return <Chart {...this.props} />;
  }
}

function lossChart(steps: number[], loss: number[]): ChartProps {
  return {
    kind: 'line',
    title: 'Loss',
    x: steps,
    series: [{ key: 'loss', label: 'loss', values: loss }],
    xAxis: { label: 'Step' },
    yAxis: { label: 'Loss', unit: 'nats', format: v => v.toFixed(2) },
    testId: 'loss-chart'
  };
}

describe('Chart', () => {
  let widget: ChartWidget | null = null;

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  async function attach(props: ChartProps): Promise<HTMLElement> {
    widget = new ChartWidget(props);
    Widget.attach(widget, document.body);
    await settle();
    return widget.node;
  }

  it('draws a line chart with its axis units and a text alternative', async () => {
    const node = await attach(lossChart([1, 2, 3], [2.5, 1.25, 0.75]));
    const figure = node.querySelector('[data-testid="loss-chart"]');
    expect(figure?.querySelector('figcaption')?.textContent).toBe('Loss');
    const plot = node.querySelector('.jp-labdeck-chart-plot');
    expect(plot?.getAttribute('role')).toBe('img');
    expect(plot?.getAttribute('aria-label')).toBe('Loss: Loss (nats)');
    expect(node.querySelectorAll('canvas')).toHaveLength(1);
    const text = drawnText(node);
    expect(text).toContain('Loss (nats)');
    expect(text).toContain('Step');
    expect(hiddenTable(node)).toEqual([
      ['loss', '0.75 nats', '0.75 nats', '2.50 nats']
    ]);
  });

  it('redraws the same plot when points are appended', async () => {
    const steps = [1, 2, 3];
    const loss = [2.5, 1.25, 0.75];
    const node = await attach(lossChart(steps, loss));
    const canvas = node.querySelector('canvas');
    expect(drawnText(node)).not.toContain('40');

    // Thousands of points, appended in place as a live series grows.
    for (let step = 4; step <= 5000; step++) {
      steps.push(step);
      loss.push(step === 5000 ? 40 : 0.5);
    }
    widget!.update();
    await settle();
    expect(node.querySelector('canvas')).toBe(canvas);
    // The value axis now reaches 40.
    expect(drawnText(node)).toContain('40');
    expect(node.querySelector('caption')?.textContent).toBe(
      'Loss: 5000 points'
    );
    expect(hiddenTable(node)[0][3]).toBe('40.00 nats');
  });

  it('follows the width of its container', async () => {
    const node = await attach(lossChart([1, 2], [1, 2]));
    const plot = node.querySelector('.jp-labdeck-chart-plot')!;
    const observers = (
      window as unknown as {
        __resizeObservers: Set<{
          targets: Set<Element>;
          callback: ResizeObserverCallback;
        }>;
      }
    ).__resizeObservers;
    const observer = Array.from(observers).find(o => o.targets.has(plot));
    expect(observer).toBeTruthy();
    observer!.callback(
      [
        {
          target: plot,
          contentRect: { width: 333, height: 0 }
        } as unknown as ResizeObserverEntry
      ],
      observer as unknown as ResizeObserver
    );
    await settle();
    const wrap = node.querySelector<HTMLElement>('.u-wrap')!;
    expect(wrap.style.width).toBe('333px');
  });

  it('draws stacked bars with their totals and a table', async () => {
    const node = await attach({
      kind: 'bars',
      title: 'Time per user',
      categories: ['bob', 'alice'],
      series: [
        { key: 'cpu', label: 'CPU', values: [null, 20] },
        { key: 'gpu', label: 'GPU', values: [30, 5] }
      ],
      yAxis: { label: 'Time', unit: 'min' }
    });
    const text = drawnText(node);
    expect(text).toEqual(
      expect.arrayContaining(['bob', 'alice', 'Time (min)'])
    );
    // Totals at the bar ends.
    expect(text).toEqual(expect.arrayContaining(['30 min', '25 min']));
    expect(
      Array.from(node.querySelectorAll('.jp-labdeck-chart-legend li')).map(
        li => li.textContent
      )
    ).toEqual(['CPU', 'GPU']);
    expect(hiddenTable(node)).toEqual([
      ['bob', '–', '30 min', '30 min'],
      ['alice', '20 min', '5 min', '25 min']
    ]);
  });

  it('redraws in the new colours when the theme changes', async () => {
    // A theme sets its variables in a stylesheet; jsdom does not inherit
    // custom properties, so this one targets the plot itself.
    const theme = document.createElement('style');
    const colour = (value: string): void => {
      theme.textContent = `.jp-labdeck-chart-plot { --jp-ui-font-color2: ${value}; }`;
    };
    colour('rgb(1, 2, 3)');
    document.head.appendChild(theme);
    type Canvas = HTMLCanvasElement & { __textColours: Map<string, string> };
    try {
      const node = await attach(lossChart([1, 2], [1, 2]));
      const before = node.querySelector('canvas') as Canvas;
      expect(before.__textColours.get('Step')).toBe('rgb(1, 2, 3)');

      colour('rgb(250, 250, 250)');
      document.body.dataset.jpThemeName = 'JupyterLab Dark';
      await settle();
      const after = node.querySelector('canvas') as Canvas;
      expect(after).not.toBe(before);
      expect(after.__textColours.get('Step')).toBe('rgb(250, 250, 250)');
    } finally {
      theme.remove();
      delete document.body.dataset.jpThemeName;
    }
  });

  it('says so when there is nothing to draw', async () => {
    const node = await attach({
      kind: 'bars',
      title: 'Time per group',
      categories: [],
      series: [],
      yAxis: { label: 'Time', unit: 'h' },
      emptyText: 'No usage in this period.'
    });
    expect(node.querySelector('canvas')).toBeNull();
    expect(node.textContent).toContain('No usage in this period.');
  });
});
