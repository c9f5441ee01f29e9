import { LabdeckModel } from '../model';
import { IdleNotifier } from '../notifier';
import { sessionSection } from '../session/section';
import { LabdeckSidebar } from '../sidebar';
import { IIdleInfo, IMe } from '../tokens';
import { attachSidebar, byTestId, pinClock, settle } from './utils';

const WARNING =
  'No activity for 55 min; this session stops in 5 min unless you use it.';

/** `me` with a running CPU session whose idle state is `idle`. */
function withIdle(idle: IIdleInfo | null, id = 3): IMe {
  const now = Date.now();
  return {
    name: 'alice',
    admin: false,
    groups: [],
    profiles: [{ name: 'cpu', display_name: 'CPU', gpus: 0 }],
    session: {
      id,
      profile: 'cpu',
      started: new Date(now - 2 * 3600_000).toISOString(),
      deadline: null,
      gpus: [],
      idle
    },
    warn_before_seconds: [900, 300]
  };
}

/** Idle for `idleMinutes` of a one-hour timeout; warned when `warned`. */
function idleFor(idleMinutes: number, warned: boolean, warnedAt = 'w1') {
  const now = Date.now();
  const last = now - idleMinutes * 60_000;
  return {
    idle_seconds: 3600,
    last_activity: new Date(last).toISOString(),
    stops_at: new Date(last + 3600_000).toISOString(),
    warning: warned ? WARNING : null,
    warned_at: warned ? warnedAt : null
  };
}

/** A model whose `me` answers are switched by the test. */
function modelAnswering(answer: { me: IMe }): LabdeckModel {
  return new LabdeckModel({ fetchMe: () => Promise.resolve(answer.me) });
}

describe('IdleNotifier', () => {
  let notify: { warning: jest.Mock; info: jest.Mock };
  const disposables: { dispose(): void }[] = [];

  beforeEach(() => {
    notify = { warning: jest.fn(), info: jest.fn() };
  });

  afterEach(() => {
    disposables.splice(0).forEach(d => d.dispose());
  });

  function start(answer: { me: IMe }): LabdeckModel {
    const model = modelAnswering(answer);
    const notifier = new IdleNotifier({ model, notify, storage: null });
    disposables.push(notifier, model);
    return model;
  }

  it('shows the warning once, and a new one after the lab was used', async () => {
    const answer = { me: withIdle(idleFor(50, false)) };
    const model = start(answer);
    await model.refresh();
    expect(notify.warning).not.toHaveBeenCalled();

    answer.me = withIdle(idleFor(55, true));
    await model.refresh();
    await model.refresh();
    expect(notify.warning).toHaveBeenCalledTimes(1);
    expect(notify.warning).toHaveBeenCalledWith(WARNING);

    // used again: the warning goes; idle again later, a new warning shows
    answer.me = withIdle(idleFor(1, false));
    await model.refresh();
    answer.me = withIdle(idleFor(55, true, 'w2'));
    await model.refresh();
    expect(notify.warning).toHaveBeenCalledTimes(2);
  });

  it('stays quiet for a runtime that is never stopped for idleness', async () => {
    const model = start({ me: withIdle(null) });
    await model.refresh();
    expect(notify.warning).not.toHaveBeenCalled();
  });

  it('does not repeat a warning after a page reload', async () => {
    const storage = new Map<string, string>();
    const shared = {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => void storage.set(key, value),
      removeItem: (key: string) => void storage.delete(key)
    };
    for (let page = 0; page < 2; page++) {
      const model = modelAnswering({ me: withIdle(idleFor(55, true)) });
      const notifier = new IdleNotifier({ model, notify, storage: shared });
      await model.refresh();
      notifier.dispose();
      model.dispose();
    }
    expect(notify.warning).toHaveBeenCalledTimes(1);
  });
});

describe('Session section idle line', () => {
  let widget: LabdeckSidebar | null = null;

  beforeEach(() => pinClock(new Date(2026, 10, 26, 13, 10, 0)));

  afterEach(() => {
    jest.useRealTimers();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
  });

  async function show(me: IMe): Promise<HTMLElement> {
    const model = modelAnswering({ me });
    widget = attachSidebar(model, [sessionSection(model)]);
    await model.refresh();
    widget.update();
    await settle();
    return widget.node;
  }

  it('says after how long an idle session stops', async () => {
    const node = await show(withIdle(idleFor(3, false)));
    const line = byTestId(node, 'labdeck-session-idle');
    expect(line?.textContent).toBe('after 1 h without activity');
    expect(line?.classList.contains('jp-mod-warn')).toBe(false);
  });

  it('says since when it is idle and when it stops once warned', async () => {
    // idle since 12:15 of a one-hour timeout: stops at 13:15
    const node = await show(withIdle(idleFor(55, true)));
    const line = byTestId(node, 'labdeck-session-idle');
    expect(line?.textContent).toBe(
      'idle for 55 min, stops at 13:15 unless used'
    );
    expect(line?.classList.contains('jp-mod-warn')).toBe(true);
    expect(line?.getAttribute('title')).toBe(WARNING);
  });

  it('shows no idle line for a runtime never stopped for idleness', async () => {
    const node = await show(withIdle(null));
    expect(byTestId(node, 'labdeck-session-idle')).toBeNull();
  });
});
