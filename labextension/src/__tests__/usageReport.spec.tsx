import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IUsageReportApi, UsageReport } from '../admin/usageReport';
import { LabdeckRequestError } from '../request';
import { IProfile, IUsageReport } from '../tokens';

const PROFILES: IProfile[] = [
  { name: 'cpu', display_name: 'CPU', gpus: 0 },
  { name: 'gpu', display_name: 'GPU', gpus: 1 }
];

const REPORT: IUsageReport = {
  since: '2026-11-18T00:00:00+00:00',
  until: '2026-11-25T00:00:00+00:00',
  group: null,
  rows: [
    {
      user: 'alice',
      groups: ['class-a'],
      profile: 'cpu',
      sessions: 2,
      seconds: 7200,
      gpu_seconds: 0
    },
    {
      user: 'alice',
      groups: ['class-a'],
      profile: 'gpu',
      sessions: 1,
      seconds: 5400,
      gpu_seconds: 5400
    },
    {
      user: 'bob',
      groups: ['class-a', 'tas'],
      profile: 'gpu',
      sessions: 3,
      seconds: 36000,
      gpu_seconds: 36000
    }
  ],
  totals: {
    by_profile: { cpu: 7200, gpu: 41400 },
    by_group: { 'class-a': 48600, tas: 36000 }
  }
};

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

function byTestId<T extends HTMLElement = HTMLElement>(
  root: HTMLElement,
  id: string
): T {
  const element = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) {
    throw new Error(`No element with data-testid=${id}`);
  }
  return element;
}

/** Set a controlled input's value the way React notices. */
function type(
  element: HTMLInputElement | HTMLSelectElement,
  value: string
): void {
  const prototype =
    element instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(prototype, 'value')?.set?.call(
    element,
    value
  );
  element.dispatchEvent(
    new Event(element instanceof HTMLSelectElement ? 'change' : 'input', {
      bubbles: true
    })
  );
}

describe('UsageReport', () => {
  let widget: Widget | null = null;
  let api: { [K in keyof IUsageReportApi]: jest.Mock };

  beforeEach(() => {
    api = {
      fetchReport: jest.fn().mockResolvedValue(REPORT),
      downloadCsv: jest.fn().mockResolvedValue('report.csv'),
      grant: jest.fn()
    };
  });

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  async function render(): Promise<HTMLElement> {
    widget = ReactWidget.create(
      <UsageReport
        profiles={PROFILES}
        api={api}
        now={new Date(2026, 10, 25, 10).getTime()}
      />
    );
    Widget.attach(widget, document.body);
    await settle();
    return widget.node;
  }

  it('loads the last 7 days and renders the table and charts', async () => {
    const node = await render();
    expect(api.fetchReport).toHaveBeenCalledWith({
      since: new Date(2026, 10, 19).toISOString(),
      until: new Date(2026, 10, 26).toISOString()
    });
    expect(byTestId(node, 'labdeck-usage-report')).toBeTruthy();

    const table = byTestId(node, 'labdeck-usage-table');
    const rows = Array.from(table.querySelectorAll('tbody tr')).map(tr =>
      Array.from(tr.querySelectorAll('td')).map(td => td.textContent)
    );
    expect(rows).toEqual([
      ['alice', 'class-a', 'CPU', '2', '2.0', '0.0'],
      ['alice', 'class-a', 'GPU', '1', '1.5', '1.5'],
      ['bob', 'class-a, tas', 'GPU', '3', '10.0', '10.0']
    ]);
    expect(table.querySelector('tfoot')?.textContent).toBe('Total613.511.5');

    const chart = byTestId(node, 'labdeck-usage-chart');
    const users = byTestId(chart, 'labdeck-usage-chart-users');
    // bob first (10 h), then alice (2 h CPU + 1.5 h GPU stacked).
    const labels = Array.from(
      users.querySelectorAll('.jp-labdeck-chart-label')
    ).map(t => t.lastChild?.textContent);
    expect(labels).toEqual(['bob', 'alice']);
    const rects = Array.from(users.querySelectorAll('rect'));
    expect(rects.map(r => r.getAttribute('data-series'))).toEqual([
      'gpu',
      'cpu',
      'gpu'
    ]);
    // Axis 0..10 h over 448 units: bob's 10 h fills the plot.
    expect(Number(rects[0].getAttribute('width'))).toBeCloseTo(448);
    expect(Number(rects[1].getAttribute('width'))).toBeCloseTo(89.6);
    // Stacked: alice's GPU starts where her CPU ends.
    expect(Number(rects[2].getAttribute('x'))).toBeCloseTo(128 + 89.6);

    const profiles = byTestId(chart, 'labdeck-usage-chart-profiles');
    expect(profiles.querySelectorAll('rect')).toHaveLength(2);
    const groups = byTestId(chart, 'labdeck-usage-chart-groups');
    expect(groups.textContent).toContain('13.5 h');
    expect(groups.textContent).toContain('tas');
    expect(byTestId(node, 'labdeck-usage-summary').textContent).toContain(
      '2 users'
    );
  });

  it('filters by group on submit and shows server errors', async () => {
    const node = await render();
    api.fetchReport.mockRejectedValueOnce(
      new LabdeckRequestError(
        "There is no group called 'nope'.",
        404,
        'not_found'
      )
    );
    type(byTestId<HTMLInputElement>(node, 'labdeck-usage-group'), 'nope');
    await settle();
    byTestId(node, 'labdeck-usage-show').click();
    await settle();
    expect(api.fetchReport).toHaveBeenLastCalledWith(
      expect.objectContaining({ group: 'nope' })
    );
    expect(byTestId(node, 'labdeck-usage-error').textContent).toBe(
      "There is no group called 'nope'."
    );
  });

  it('downloads the CSV of the chosen period', async () => {
    const node = await render();
    byTestId(node, 'labdeck-usage-csv').click();
    await settle();
    expect(api.downloadCsv).toHaveBeenCalledWith({
      since: new Date(2026, 10, 19).toISOString(),
      until: new Date(2026, 10, 26).toISOString()
    });
  });

  it('grants time and shows the new quota or the error', async () => {
    const node = await render();
    expect(
      byTestId<HTMLSelectElement>(node, 'labdeck-grant-profile').value
    ).toBe('gpu');
    api.grant.mockResolvedValueOnce({
      beforeSeconds: 14400,
      afterSeconds: 21600,
      quota: {
        cpu: { session_seconds: 14400, daily_seconds: 28800 },
        gpu: { session_seconds: 14400, daily_seconds: 21600 },
        storage_bytes: 15e9
      }
    });
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-user'), 'alice');
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-hours'), '2');
    await settle();
    byTestId(node, 'labdeck-grant-submit').click();
    await settle();
    expect(api.grant).toHaveBeenCalledWith('alice', 'gpu', 2);
    const result = byTestId(node, 'labdeck-grant-result');
    expect(result.dataset.outcome).toBe('ok');
    expect(result.textContent).toContain(
      'alice now has 6 h of GPU per day (was 4 h).'
    );
    expect(result.textContent).toContain(
      'CPU 8 h/day, 4 h/session · GPU 6 h/day, 4 h/session'
    );

    api.grant.mockRejectedValueOnce(
      new LabdeckRequestError(
        'gpu.daily_seconds must be a number.',
        400,
        'invalid_quota'
      )
    );
    type(byTestId<HTMLSelectElement>(node, 'labdeck-grant-profile'), 'cpu');
    await settle();
    byTestId(node, 'labdeck-grant-submit').click();
    await settle();
    expect(api.grant).toHaveBeenLastCalledWith('alice', 'cpu', 2);
    expect(byTestId(node, 'labdeck-grant-result').dataset.outcome).toBe(
      'error'
    );
    expect(byTestId(node, 'labdeck-grant-result').textContent).toBe(
      'gpu.daily_seconds must be a number.'
    );
  });
});
