import {
  axisTicks,
  niceCeiling,
  scaleLength,
  seriesKeys,
  totalBars,
  userBars
} from '../admin/chartData';
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

describe('niceCeiling', () => {
  it.each([
    [0, 1],
    [-3, 1],
    [Number.NaN, 1],
    [0.3, 0.5],
    [1, 1],
    [1.2, 2],
    [2.2, 2.5],
    [3, 5],
    [7, 10],
    [12, 20],
    [240, 250],
    [999, 1000]
  ])('%p -> %p', (value, nice) => {
    expect(niceCeiling(value)).toBe(nice);
  });
});

describe('axisTicks', () => {
  it('spans 0 to a nice maximum in nice steps', () => {
    expect(axisTicks(7)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(axisTicks(12)).toEqual([0, 5, 10, 15, 20]);
    expect(axisTicks(0)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('always reaches the data', () => {
    for (const max of [0.1, 0.7, 1.9, 3.3, 17, 42, 101, 777]) {
      const ticks = axisTicks(max);
      expect(ticks[0]).toBe(0);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(6);
    }
  });
});

describe('scaleLength', () => {
  it('is proportional, clamped and zero without a scale', () => {
    expect(scaleLength(5, 10, 400)).toBe(200);
    expect(scaleLength(12, 10, 400)).toBe(400);
    expect(scaleLength(-1, 10, 400)).toBe(0);
    expect(scaleLength(5, 0, 400)).toBe(0);
  });
});

describe('userBars', () => {
  const rows = [
    row('alice', 'cpu', 1),
    row('alice', 'gpu', 2.5),
    row('bob', 'cpu', 4),
    row('carol', 'tpu', 0.5)
  ];

  it('stacks hours per profile, users by total', () => {
    const bars = userBars(rows, ['cpu', 'gpu']);
    expect(bars.map(b => b.label)).toEqual(['bob', 'alice', 'carol']);
    expect(bars[1].segments).toEqual([
      { key: 'cpu', value: 1 },
      { key: 'gpu', value: 2.5 }
    ]);
    expect(bars[1].total).toBe(3.5);
  });

  it('orders series as the profiles, then others', () => {
    expect(seriesKeys(rows, ['gpu', 'cpu'])).toEqual(['gpu', 'cpu', 'tpu']);
  });
});

describe('totalBars', () => {
  it('makes one bar per key, in hours, largest first', () => {
    const bars = totalBars({ 'class-a': 7200, tas: 36000, empty: 0 });
    expect(bars.map(b => [b.label, b.total])).toEqual([
      ['tas', 10],
      ['class-a', 2],
      ['empty', 0]
    ]);
    expect(bars[0].segments).toEqual([{ key: 'total', value: 10 }]);
    expect(bars[2].segments).toEqual([]);
    expect(totalBars({ gpu: 3600 }, key => key)[0].segments[0].key).toBe('gpu');
  });
});
