import {
  formatAmount,
  formatDurationIn,
  inUnit,
  pickDurationUnit
} from '../durationUnit';

describe('pickDurationUnit', () => {
  it.each([
    [[], 's'],
    [[0, 0], 's'],
    [[45], 's'],
    [[119], 's'],
    [[120], 'min'],
    [[300, 600, 30], 'min'],
    [[5399], 'min'],
    [[7199], 'min'],
    [[7200], 'h'],
    [[600, 36000], 'h'],
    [[Number.NaN, -5, Infinity, 90], 's']
  ])('%p -> %s', (values, unit) => {
    expect(pickDurationUnit(values)).toBe(unit);
  });

  it('takes any iterable', () => {
    expect(pickDurationUnit(new Set([60, 900]))).toBe('min');
  });
});

describe('formatAmount', () => {
  it.each([
    [0, '0'],
    [-1, '0'],
    [Number.NaN, '0'],
    [0.25, '0.3'],
    [1.5, '1.5'],
    [12, '12'],
    [99.94, '99.9'],
    [99.96, '100'],
    [250.4, '250']
  ])('%p -> %s', (value, text) => {
    expect(formatAmount(value)).toBe(text);
  });
});

describe('formatDurationIn', () => {
  it('reads short sessions in minutes, not 0.0 h', () => {
    const sessions = [600, 900, 1500];
    const unit = pickDurationUnit(sessions);
    expect(sessions.map(s => formatDurationIn(s, unit))).toEqual([
      '10 min',
      '15 min',
      '25 min'
    ]);
  });

  it('converts to each unit', () => {
    expect(formatDurationIn(45, 's')).toBe('45 s');
    expect(formatDurationIn(5400, 'h')).toBe('1.5 h');
    expect(formatDurationIn(5400, 'min')).toBe('90 min');
    expect(inUnit(-3, 'h')).toBe(0);
  });
});
