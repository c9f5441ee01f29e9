import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IUsageReportApi, UsageReport } from '../admin/usageReport';
import { LabdeckRequestError } from '../request';
import { IProfile, IUsageReport, IUsageRow } from '../tokens';

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
      kind: 'session',
      sessions: 2,
      seconds: 7200,
      gpu_seconds: 0,
      core_seconds: 0,
      granted_seconds: 7200
    },
    {
      user: 'alice',
      groups: ['class-a'],
      profile: 'gpu',
      kind: 'session',
      sessions: 1,
      seconds: 5400,
      gpu_seconds: 5400,
      core_seconds: 0
    },
    {
      user: 'bob',
      groups: ['class-a', 'tas'],
      profile: 'gpu',
      kind: 'session',
      sessions: 3,
      seconds: 36000,
      gpu_seconds: 36000,
      core_seconds: 0
    }
  ],
  totals: {
    by_profile: { cpu: 7200, gpu: 41400 },
    by_group: { 'class-a': 48600, tas: 36000 },
    granted_by_profile: { cpu: 7200 }
  },
  grants: [
    {
      id: 3,
      user: 'alice',
      profile: 'cpu',
      seconds: 7200,
      date: '2026-11-24',
      note: 'exam week',
      granted_by: 'admin',
      granted_at: '2026-11-24T09:00:00+00:00'
    }
  ]
};

/** Rows of a chart's text alternative: item, then each series' time. */
function chartRows(chart: HTMLElement): string[][] {
  const table = chart.querySelector('table');
  return Array.from(table?.querySelectorAll('tbody tr') ?? []).map(tr =>
    Array.from(tr.children).map(cell => cell.textContent ?? '')
  );
}

/** Text drawn on a chart's canvas (recorded by the jest setup's stub). */
function drawnText(chart: HTMLElement): string[] {
  const canvas = chart.querySelector('canvas') as
    (HTMLCanvasElement & { __drawnText?: string[] }) | null;
  return canvas?.__drawnText ?? [];
}

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
      grant: jest.fn(),
      grantOneDay: jest.fn()
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
      ['alice', 'class-a', 'Session', 'CPU', '2', '2', '0', '–', '+2 h'],
      ['alice', 'class-a', 'Session', 'GPU', '1', '1.5', '1.5', '–', '–'],
      ['bob', 'class-a, tas', 'Session', 'GPU', '3', '10', '10', '–', '–']
    ]);
    const granted = table.querySelectorAll<HTMLElement>(
      '[data-testid=labdeck-usage-granted]'
    );
    expect(granted[0].title).toBe('2026-11-24: 2 h by admin (exam week)');
    expect(granted[1].title).toBe('');
    expect(
      Array.from(table.querySelectorAll('thead th')).map(th => th.textContent)
    ).toEqual([
      'User',
      'Groups',
      'Kind',
      'Runtime',
      'Runs',
      'Time (h)',
      'GPU time (h)',
      'Core time (core·s)',
      'Granted'
    ]);
    expect(table.querySelector('tfoot')?.textContent).toBe(
      'Total613.511.50+2 h'
    );

    const chart = byTestId(node, 'labdeck-usage-chart');
    const users = byTestId(chart, 'labdeck-usage-chart-users');
    // bob first (10 h), then alice (2 h CPU + 1.5 h GPU stacked).
    expect(chartRows(users)).toEqual([
      ['bob', '–', '10 h', '10 h'],
      ['alice', '2 h', '1.5 h', '3.5 h']
    ]);
    expect(drawnText(users)).toEqual(
      expect.arrayContaining(['bob', 'alice', 'Time (h)', '10 h', '3.5 h'])
    );
    expect(
      Array.from(users.querySelectorAll('.jp-labdeck-chart-legend li')).map(
        li => li.textContent
      )
    ).toEqual(['CPU', 'GPU']);

    const profiles = byTestId(chart, 'labdeck-usage-chart-profiles');
    expect(chartRows(profiles)).toEqual([
      ['GPU', '–', '11.5 h', '11.5 h'],
      ['CPU', '2 h', '–', '2 h']
    ]);
    const groups = byTestId(chart, 'labdeck-usage-chart-groups');
    expect(chartRows(groups)).toEqual([
      ['class-a', '13.5 h'],
      ['tas', '10 h']
    ]);
    expect(byTestId(node, 'labdeck-usage-summary').textContent).toContain(
      '2 users'
    );
  });

  it('shows a class of short sessions in minutes, not 0.0 h', async () => {
    const minutes = (
      user: string,
      profile: string,
      count: number
    ): IUsageRow => ({
      user,
      groups: ['short-class'],
      profile,
      kind: 'session',
      sessions: 1,
      seconds: count * 60,
      gpu_seconds: profile === 'gpu' ? count * 60 : 0,
      core_seconds: 0
    });
    api.fetchReport.mockResolvedValue({
      ...REPORT,
      group: 'short-class',
      rows: [
        minutes('ann', 'cpu', 12),
        minutes('ben', 'cpu', 25),
        minutes('cid', 'gpu', 4)
      ],
      totals: {
        by_profile: { cpu: 37 * 60, gpu: 4 * 60 },
        by_group: { 'short-class': 41 * 60 }
      }
    });
    const node = await render();
    const users = byTestId(node, 'labdeck-usage-chart-users');
    expect(chartRows(users)).toEqual([
      ['ben', '25 min', '–', '25 min'],
      ['ann', '12 min', '–', '12 min'],
      ['cid', '–', '4 min', '4 min']
    ]);
    const drawn = drawnText(users);
    expect(drawn).toEqual(
      expect.arrayContaining(['Time (min)', '25 min', '12 min', '4 min'])
    );
    expect(drawn.some(text => text.includes(' h'))).toBe(false);
    expect(chartRows(byTestId(node, 'labdeck-usage-chart-groups'))).toEqual([
      ['short-class', '41 min']
    ]);

    const table = byTestId(node, 'labdeck-usage-table');
    expect(table.querySelector('thead')?.textContent).toContain('Time (min)');
    expect(
      Array.from(table.querySelectorAll('tbody tr')).map(
        tr => tr.querySelectorAll('td')[5].textContent
      )
    ).toEqual(['12', '25', '4']);
    expect(table.textContent).not.toContain('0.0');
  });

  it('shows training jobs and Spark core time as their own rows and series', async () => {
    const row = (
      user: string,
      kind: IUsageRow['kind'],
      profile: string,
      sessions: number,
      seconds: number,
      extra: Partial<IUsageRow> = {}
    ): IUsageRow => ({
      user,
      groups: [user === 'alice' ? 'class-a' : 'tas'],
      profile,
      kind,
      sessions,
      seconds,
      gpu_seconds: 0,
      core_seconds: 0,
      ...extra
    });
    api.fetchReport.mockResolvedValue({
      ...REPORT,
      // as the server sorts them: user, kind, profile
      rows: [
        row('alice', 'job', 'cpu', 2, 1800),
        row('alice', 'job', 'gpu', 1, 3600, { gpu_seconds: 3600 }),
        row('alice', 'session', 'cpu', 1, 7200),
        row('bob', 'cluster', 'spark', 1, 3600, { core_seconds: 4 * 3600 }),
        row('bob', 'session', 'gpu', 1, 5400, { gpu_seconds: 5400 })
      ],
      totals: {
        by_profile: { cpu: 9000, gpu: 9000, spark: 3600 },
        by_group: { 'class-a': 12600, tas: 9000 },
        by_kind: {
          job: { seconds: 5400, gpu_seconds: 3600, core_seconds: 0 },
          session: { seconds: 12600, gpu_seconds: 5400, core_seconds: 0 },
          cluster: { seconds: 3600, gpu_seconds: 0, core_seconds: 14400 }
        }
      }
    });
    const node = await render();

    const table = byTestId(node, 'labdeck-usage-table');
    expect(byTestId(table, 'labdeck-usage-col-kind').textContent).toBe('Kind');
    expect(byTestId(table, 'labdeck-usage-col-core-time').textContent).toBe(
      'Core time (core·h)'
    );
    const rows = Array.from(table.querySelectorAll('tbody tr')).map(tr => [
      (tr as HTMLElement).dataset.kind,
      ...Array.from(tr.querySelectorAll('td')).map(td => td.textContent)
    ]);
    expect(rows).toEqual([
      [
        'job',
        'alice',
        'class-a',
        'Training job',
        'CPU',
        '2',
        '0.5',
        '0',
        '–',
        '–'
      ],
      [
        'job',
        'alice',
        'class-a',
        'Training job',
        'GPU',
        '1',
        '1',
        '1',
        '–',
        '–'
      ],
      [
        'session',
        'alice',
        'class-a',
        'Session',
        'CPU',
        '1',
        '2',
        '0',
        '–',
        '–'
      ],
      ['cluster', 'bob', 'tas', 'Spark cluster', '–', '1', '1', '0', '4', '–'],
      ['session', 'bob', 'tas', 'Session', 'GPU', '1', '1.5', '1.5', '–', '–']
    ]);
    expect(table.querySelector('tfoot')?.textContent).toBe('Total662.54–');

    // per user: session runtimes, then training jobs, then Spark core time
    const users = byTestId(node, 'labdeck-usage-chart-users');
    expect(chartRows(users)).toEqual([
      ['bob', '–', '1.5 h', '–', '4 h', '5.5 h'],
      ['alice', '2 h', '–', '1.5 h', '–', '3.5 h']
    ]);
    const legend = Array.from(
      users.querySelectorAll('.jp-labdeck-chart-legend li')
    );
    expect(legend.map(li => li.textContent)).toEqual([
      'CPU',
      'GPU',
      'Training jobs',
      'Spark (core time)'
    ]);
    // each its own colour
    const colours = legend.map(
      li => li.querySelector('.jp-labdeck-chart-swatch')?.className
    );
    expect(new Set(colours).size).toBe(4);

    // per runtime: the jobs and Spark core time are bars of their own
    const runtimes = byTestId(node, 'labdeck-usage-chart-profiles');
    expect(chartRows(runtimes)).toEqual([
      ['Spark (core time)', '–', '–', '–', '4 h', '4 h'],
      ['CPU', '2 h', '–', '–', '–', '2 h'],
      ['GPU', '–', '1.5 h', '–', '–', '1.5 h'],
      ['Training jobs', '–', '–', '1.5 h', '–', '1.5 h']
    ]);
  });

  it('keeps core time in its own unit when the rest reads in minutes', async () => {
    api.fetchReport.mockResolvedValue({
      ...REPORT,
      rows: [
        {
          user: 'ann',
          groups: [],
          profile: 'spark',
          kind: 'cluster',
          sessions: 1,
          seconds: 1800,
          gpu_seconds: 0,
          core_seconds: 8 * 1800
        },
        {
          user: 'ann',
          groups: [],
          profile: 'cpu',
          kind: 'session',
          sessions: 1,
          seconds: 600,
          gpu_seconds: 0,
          core_seconds: 0
        }
      ],
      totals: { by_profile: { cpu: 600, spark: 1800 }, by_group: {} }
    });
    const node = await render();
    const table = byTestId(node, 'labdeck-usage-table');
    expect(
      Array.from(table.querySelectorAll('thead th')).map(th => th.textContent)
    ).toEqual(expect.arrayContaining(['Time (min)', 'Core time (core·h)']));
    expect(
      Array.from(table.querySelectorAll('tbody tr')).map(tr =>
        Array.from(tr.querySelectorAll('td'))
          .slice(5)
          .map(td => td.textContent)
      )
    ).toEqual([
      ['30', '0', '4', '–'],
      ['10', '0', '–', '–']
    ]);
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

  it('grants time for today only by default, with a note', async () => {
    const node = await render();
    expect(byTestId<HTMLSelectElement>(node, 'labdeck-grant-scope').value).toBe(
      'today'
    );
    api.grantOneDay.mockResolvedValueOnce({
      id: 7,
      user: 'alice',
      profile: 'gpu',
      seconds: 7200,
      date: '2026-11-25',
      note: 'exam week',
      granted_by: 'admin',
      granted_at: '2026-11-25T10:00:00+00:00'
    });
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-user'), 'alice');
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-hours'), '2');
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-note'), 'exam week');
    await settle();
    byTestId(node, 'labdeck-grant-submit').click();
    await settle();
    expect(api.grantOneDay).toHaveBeenCalledWith(
      'alice',
      'gpu',
      2,
      'exam week',
      undefined
    );
    expect(api.grant).not.toHaveBeenCalled();
    const result = byTestId(node, 'labdeck-grant-result');
    expect(result.dataset.outcome).toBe('ok');
    expect(result.textContent).toBe(
      'alice has 2 h more of GPU today (granted by admin).'
    );

    // a chosen date is sent, and said
    api.grantOneDay.mockResolvedValueOnce({
      id: 8,
      user: 'alice',
      profile: 'gpu',
      seconds: 3600,
      date: '2026-11-27',
      note: 'exam week',
      granted_by: 'admin',
      granted_at: '2026-11-25T10:00:00+00:00'
    });
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-hours'), '1');
    type(byTestId<HTMLInputElement>(node, 'labdeck-grant-date'), '2026-11-27');
    await settle();
    byTestId(node, 'labdeck-grant-submit').click();
    await settle();
    expect(api.grantOneDay).toHaveBeenLastCalledWith(
      'alice',
      'gpu',
      1,
      'exam week',
      '2026-11-27'
    );
    expect(byTestId(node, 'labdeck-grant-result').textContent).toBe(
      'alice has 1 h more of GPU on 2026-11-27 (granted by admin).'
    );
  });

  it('grants time every day through the quota, or shows the error', async () => {
    const node = await render();
    expect(
      byTestId<HTMLSelectElement>(node, 'labdeck-grant-profile').value
    ).toBe('gpu');
    type(byTestId<HTMLSelectElement>(node, 'labdeck-grant-scope'), 'daily');
    await settle();
    expect(node.querySelector('[data-testid=labdeck-grant-note]')).toBeNull();
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
    expect(api.grantOneDay).not.toHaveBeenCalled();
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
