import {
  formatBytes,
  formatClockTime,
  formatCountdown,
  formatDeadlineReason,
  formatDecimalBytes,
  formatDuration,
  formatStatusText,
  humanDuration,
  meterLevel,
  profileDisplayName,
  profileLimits,
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

describe('humanDuration', () => {
  it.each([
    [0, '0 min'],
    [-3, '0 min'],
    [45, '45 s'],
    [120, '2 min'],
    [150, '2 min'],
    [3600, '1 h'],
    [14400, '4 h'],
    [28680, '7 h 58 min'],
    [27 * 3600, '27 h']
  ])('short %p -> %s', (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });

  it.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [30, '30 seconds'],
    [60, '1 minute'],
    [90, '1 minute 30 seconds'],
    [300, '5 minutes'],
    [900, '15 minutes'],
    [3600, '1 hour'],
    [8100, '2 hours 15 minutes'],
    [3661, '1 hour 1 minute']
  ])('long %p -> %s', (seconds, text) => {
    expect(humanDuration(seconds, 'long')).toBe(text);
  });
});

describe('formatDecimalBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [123456, '123 kB'],
    [1.2e9, '1.2 GB'],
    [9.96e9, '10 GB'],
    [15e9, '15 GB']
  ])('%p -> %s', (bytes, text) => {
    expect(formatDecimalBytes(bytes)).toBe(text);
  });
});

describe('formatClockTime', () => {
  const now = new Date(2026, 10, 25, 9, 0).getTime();

  it('shows HH:MM today, tomorrow, or a date', () => {
    expect(
      formatClockTime(new Date(2026, 10, 25, 8, 19).toISOString(), now)
    ).toBe('08:19');
    expect(
      formatClockTime(new Date(2026, 10, 26, 8, 19).toISOString(), now)
    ).toBe('tomorrow 08:19');
    expect(
      formatClockTime(new Date(2026, 10, 28, 7, 5).toISOString(), now)
    ).toBe('28 Nov 07:05');
  });

  it('is null without a usable time', () => {
    expect(formatClockTime(null, now)).toBeNull();
    expect(formatClockTime('soon', now)).toBeNull();
  });
});

describe('formatDeadlineReason', () => {
  it('names the limit', () => {
    expect(formatDeadlineReason('session_limit')).toBe('session limit');
    expect(formatDeadlineReason('daily_budget')).toBe('daily budget');
    expect(formatDeadlineReason(null)).toBeNull();
  });
});

describe('profileLimits and profileDisplayName', () => {
  const quota = {
    cpu: { session_seconds: 14400, daily_seconds: 28800 },
    gpu: { session_seconds: null, daily_seconds: null },
    storage_bytes: 15e9
  };

  it('reads the limits of a profile, never storage_bytes', () => {
    expect(profileLimits(quota, 'cpu')?.daily_seconds).toBe(28800);
    expect(profileLimits(quota, 'gpu')?.daily_seconds).toBeNull();
    expect(profileLimits(quota, 'storage_bytes')).toBeNull();
    expect(profileLimits(quota, 'tpu')).toBeNull();
    expect(profileLimits(undefined, 'cpu')).toBeNull();
  });

  it('finds display names', () => {
    const profiles = [{ name: 'gpu', display_name: 'GPU' }];
    expect(profileDisplayName(profiles, 'gpu')).toBe('GPU');
    expect(profileDisplayName(profiles, 'cpu')).toBe('cpu');
  });
});

describe('meterLevel', () => {
  it('turns warn then danger', () => {
    expect(meterLevel(null, 0.9, 1)).toBe('ok');
    expect(meterLevel(0.89, 0.9, 1)).toBe('ok');
    expect(meterLevel(0.9, 0.9, 1)).toBe('warn');
    expect(meterLevel(1, 0.9, 1)).toBe('danger');
  });
});
