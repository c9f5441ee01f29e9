import {
  announcedSeconds,
  endedMessage,
  evaluateThresholds,
  isFinalStretch,
  normalizeThresholds,
  REARM_MARGIN_SECONDS,
  warningMessage
} from '../thresholds';

const THRESHOLDS = [900, 300];

describe('normalizeThresholds', () => {
  it('keeps positive unique values, largest first', () => {
    expect(normalizeThresholds([300, 900, 300, 0, -5, Number.NaN])).toEqual([
      900, 300
    ]);
    expect(normalizeThresholds(undefined)).toEqual([]);
  });
});

describe('evaluateThresholds', () => {
  it('fires nothing while above every threshold', () => {
    const decision = evaluateThresholds(3600, THRESHOLDS, new Set());
    expect(decision.notify).toBeNull();
    expect([...decision.fired]).toEqual([]);
  });

  it('fires each threshold once as the countdown crosses it', () => {
    let fired: Set<number> = new Set();
    const notified: number[] = [];
    // One evaluation per second from 20 minutes down to 0.
    for (let remaining = 1200; remaining >= 1; remaining--) {
      const decision = evaluateThresholds(remaining, THRESHOLDS, fired);
      fired = decision.fired;
      if (decision.notify !== null) {
        notified.push(decision.notify);
        // It fires exactly at the crossing.
        expect(remaining).toBe(decision.notify);
      }
    }
    expect(notified).toEqual([900, 300]);
  });

  it('does not fire again for thresholds already fired', () => {
    const decision = evaluateThresholds(250, THRESHOLDS, new Set([900, 300]));
    expect(decision.notify).toBeNull();
    expect([...decision.fired].sort()).toEqual([300, 900]);
  });

  it('announces only the smallest of several crossed at once', () => {
    // The lab opens with 4 minutes left: one warning, for 300.
    const decision = evaluateThresholds(240, THRESHOLDS, new Set());
    expect(decision.notify).toBe(300);
    expect([...decision.fired].sort()).toEqual([300, 900]);
  });

  it('announces the smallest crossed when only the larger is crossed', () => {
    const decision = evaluateThresholds(600, THRESHOLDS, new Set());
    expect(decision.notify).toBe(900);
    expect([...decision.fired]).toEqual([900]);
  });

  it('announces nothing once the deadline has passed', () => {
    const decision = evaluateThresholds(-2, THRESHOLDS, new Set());
    expect(decision.notify).toBeNull();
    expect([...decision.fired].sort()).toEqual([300, 900]);
  });

  it('re-arms a threshold when the deadline moves well later', () => {
    const fired = new Set([900, 300]);
    // Within the margin a threshold stays fired; above it, it is armed again.
    expect(
      evaluateThresholds(900 + REARM_MARGIN_SECONDS, THRESHOLDS, fired).fired
    ).toEqual(new Set([900]));
    // An admin granted an hour: both thresholds are armed again...
    const later = evaluateThresholds(4000, THRESHOLDS, fired);
    expect(later.notify).toBeNull();
    expect([...later.fired]).toEqual([]);
    // ... and fire again on the way down.
    expect(evaluateThresholds(900, THRESHOLDS, later.fired).notify).toBe(900);
  });

  it('ignores unsorted and duplicated thresholds', () => {
    const decision = evaluateThresholds(30, [30, 900, 300, 30], new Set());
    expect(decision.notify).toBe(30);
  });
});

describe('isFinalStretch', () => {
  it('is true at or below the smallest threshold', () => {
    expect(isFinalStretch(301, THRESHOLDS)).toBe(false);
    expect(isFinalStretch(300, THRESHOLDS)).toBe(true);
    expect(isFinalStretch(0, THRESHOLDS)).toBe(true);
    expect(isFinalStretch(null, THRESHOLDS)).toBe(false);
    expect(isFinalStretch(10, [])).toBe(false);
  });
});

describe('announcedSeconds', () => {
  it('announces the threshold when live, else the time left', () => {
    expect(announcedSeconds(900, 899.2)).toBe(900);
    expect(announcedSeconds(900, 420)).toBe(420);
    expect(announcedSeconds(900, 401)).toBe(420);
    expect(announcedSeconds(300, 45.3)).toBe(46);
  });
});

describe('messages', () => {
  it('says which runtime stops, when and why', () => {
    expect(warningMessage('GPU', 900, 'session_limit')).toBe(
      'Your GPU session stops in 15 minutes (session limit). Save your work: files are kept.'
    );
    expect(warningMessage('CPU', 30, 'daily_budget')).toBe(
      'Your CPU session stops in 30 seconds (daily budget). Save your work: files are kept.'
    );
    expect(warningMessage('CPU', 300, null)).toBe(
      'Your CPU session stops in 5 minutes. Save your work: files are kept.'
    );
  });

  it('says the session has ended', () => {
    expect(endedMessage('GPU', 'daily_budget')).toBe(
      'Your session has ended (GPU, daily budget). Your files are kept.'
    );
  });
});
