import {
  formatBytes,
  formatCountdown,
  formatDuration,
  formatStatusText,
  remainingMilliseconds,
  usedFraction
} from '../format';

describe('formatDuration', () => {
  it.each([
    [0, '00:00:00'],
    [-5000, '00:00:00'],
    [Number.NaN, '00:00:00'],
    [999, '00:00:01'],
    [1000, '00:00:01'],
    [59_000, '00:00:59'],
    [61_000, '00:01:01'],
    [3_723_000, '01:02:03'],
    [4 * 3600 * 1000, '04:00:00'],
    [27 * 3600 * 1000 + 5000, '27:00:05'],
    [3_599_500, '01:00:00']
  ])('%p ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('remainingMilliseconds', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');

  it('reads ISO 8601 deadlines with a zone', () => {
    expect(remainingMilliseconds('2025-01-01T14:00:00Z', now)).toBe(
      2 * 3600 * 1000
    );
    expect(remainingMilliseconds('2025-01-01T15:00:00+01:00', now)).toBe(
      2 * 3600 * 1000
    );
  });

  it('accepts epoch milliseconds', () => {
    expect(remainingMilliseconds(now + 1234, now)).toBe(1234);
  });

  it('returns null without a usable deadline', () => {
    expect(remainingMilliseconds(null, now)).toBeNull();
    expect(remainingMilliseconds(undefined, now)).toBeNull();
    expect(remainingMilliseconds('', now)).toBeNull();
    expect(remainingMilliseconds('tomorrow-ish', now)).toBeNull();
  });
});

describe('formatCountdown', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');

  it('shows HH:MM:SS left', () => {
    expect(formatCountdown('2025-01-01T13:02:03Z', now)).toBe('01:02:03 left');
  });

  it('says when time is up', () => {
    expect(formatCountdown('2025-01-01T12:00:00Z', now)).toBe('time is up');
    expect(formatCountdown('2025-01-01T11:00:00Z', now)).toBe('time is up');
  });

  it('is null without a deadline', () => {
    expect(formatCountdown(null, now)).toBeNull();
  });
});

describe('formatStatusText', () => {
  it('joins the parts that are present', () => {
    expect(formatStatusText(null, null)).toBe('labdeck');
    expect(formatStatusText('alice', null)).toBe('labdeck · alice');
    expect(formatStatusText('alice', '00:10:00 left')).toBe(
      'labdeck · alice · 00:10:00 left'
    );
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [15 * 1024 ** 3, '15 GiB'],
    [2.25 * 1024 ** 2, '2.3 MiB']
  ])('%p -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('usedFraction', () => {
  it('is clamped to [0, 1] and null without a limit', () => {
    expect(usedFraction(5, 10)).toBe(0.5);
    expect(usedFraction(20, 10)).toBe(1);
    expect(usedFraction(-1, 10)).toBe(0);
    expect(usedFraction(5, null)).toBeNull();
    expect(usedFraction(5, 0)).toBeNull();
  });
});
