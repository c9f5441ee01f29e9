import { barSeries, seriesKeys, totalBars, userBars } from '../admin/chartData';
import { IUsageRow } from '../tokens';

function row(
  user: string,
  profile: string,
  hours: number,
  groups: string[] = []
): IUsageRow {
  return {
    user,
    groups,
    profile,
    sessions: 1,
    seconds: hours * 3600,
    gpu_seconds: profile === 'gpu' ? hours * 3600 : 0
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
