import {
  barSeries,
  seriesKeys,
  seriesTotals,
  totalBars,
  userBars
} from '../admin/chartData';
import { kindLabel, seriesLabel } from '../admin/kinds';
import { IUsageRow, UsageKind } from '../tokens';

function row(
  user: string,
  profile: string,
  hours: number,
  groups: string[] = [],
  kind: UsageKind = 'session',
  cores = 0
): IUsageRow {
  return {
    user,
    groups,
    profile,
    kind,
    sessions: 1,
    seconds: hours * 3600,
    gpu_seconds: profile === 'gpu' ? hours * 3600 : 0,
    core_seconds: hours * 3600 * cores
  };
}

describe('userBars', () => {
  const rows = [
    row('alice', 'cpu', 1),
    row('alice', 'gpu', 2.5),
    row('bob', 'cpu', 4),
    row('carol', 'tpu', 0.5)
  ];

  it('stacks seconds per profile, users by total', () => {
    const bars = userBars(rows, ['cpu', 'gpu']);
    expect(bars.map(b => b.label)).toEqual(['bob', 'alice', 'carol']);
    expect(bars[1].segments).toEqual([
      { key: 'cpu', value: 3600 },
      { key: 'gpu', value: 9000 }
    ]);
    expect(bars[1].total).toBe(12600);
  });

  it('orders series as the profiles, then others', () => {
    expect(seriesKeys(rows, ['gpu', 'cpu'])).toEqual(['gpu', 'cpu', 'tpu']);
  });
});

describe('totalBars', () => {
  it('makes one bar per key, largest first', () => {
    const bars = totalBars({ 'class-a': 7200, tas: 36000, empty: 0 });
    expect(bars.map(b => [b.label, b.total])).toEqual([
      ['tas', 36000],
      ['class-a', 7200],
      ['empty', 0]
    ]);
    expect(bars[0].segments).toEqual([{ key: 'total', value: 36000 }]);
    expect(bars[2].segments).toEqual([]);
    expect(totalBars({ gpu: 3600 }, key => key)[0].segments[0].key).toBe('gpu');
  });
});

describe('barSeries', () => {
  it('makes one column per present key, in the unit', () => {
    const bars = userBars(
      [row('alice', 'cpu', 0.5), row('bob', 'gpu', 0.25)],
      ['cpu', 'gpu', 'tpu']
    );
    expect(
      barSeries(bars, ['cpu', 'gpu', 'tpu'], k => k.toUpperCase(), 'min')
    ).toEqual([
      { key: 'cpu', label: 'CPU', values: [30, null] },
      { key: 'gpu', label: 'GPU', values: [null, 15] }
    ]);
  });
});

describe('kinds', () => {
  // alice: a cpu session and a cpu job (one profile, two kinds), a Spark
  // cluster of 4 cores for 1 h; bob: a gpu job and a deployment.
  const rows = [
    row('alice', 'cpu', 1),
    row('alice', 'cpu', 0.5, [], 'job'),
    row('alice', 'spark', 1, [], 'cluster', 4),
    row('bob', 'gpu', 2, [], 'job'),
    row('bob', 'cpu', 0.25, [], 'deployment')
  ];

  it('orders series: session runtimes, jobs, Spark core time, deployments', () => {
    expect(seriesKeys(rows, ['gpu', 'cpu'])).toEqual([
      'cpu',
      'kind:job',
      'kind:cluster',
      'kind:deployment'
    ]);
    expect(
      seriesKeys(rows, ['gpu', 'cpu']).map(key => seriesLabel([], key))
    ).toEqual(['cpu', 'Training jobs', 'Spark (core time)', 'Deployments']);
    expect(seriesLabel([{ name: 'cpu', display_name: 'CPU' }], 'cpu')).toBe(
      'CPU'
    );
    expect(seriesLabel([], 'total')).toBe('Total');
  });

  it('stacks a job apart from a session of the same runtime, Spark by core time', () => {
    const bars = userBars(rows, ['cpu']);
    expect(bars.map(b => b.label)).toEqual(['alice', 'bob']);
    expect(bars[0].segments).toEqual([
      { key: 'cpu', value: 3600 },
      { key: 'kind:job', value: 1800 },
      { key: 'kind:cluster', value: 4 * 3600 }
    ]);
    expect(bars[1].segments).toEqual([
      { key: 'kind:job', value: 7200 },
      { key: 'kind:deployment', value: 900 }
    ]);
  });

  it('totals each series over all users', () => {
    expect(seriesTotals(rows)).toEqual({
      cpu: 3600,
      'kind:job': 9000,
      'kind:cluster': 14400,
      'kind:deployment': 900
    });
  });

  it('names kinds for people', () => {
    expect(
      ['session', 'job', 'cluster', 'deployment', 'other'].map(kindLabel)
    ).toEqual([
      'Session',
      'Training job',
      'Spark cluster',
      'Deployment',
      'other'
    ]);
  });
});
