import { LabdeckModel } from '../model';
import { DeadlineNotifier } from '../notifier';
import { IMe } from '../tokens';

/** A sessionStorage stand-in shared across "page reloads". */
class MemoryStorage {
  getItem(key: string): string | null {
    return this.items.has(key) ? (this.items.get(key) as string) : null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  items = new Map<string, string>();
}

const START = Date.parse('2026-11-25T12:00:00Z');

function me(deadlineInSeconds: number | null, id = 3): IMe {
  return {
    name: 'alice',
    admin: false,
    groups: [],
    profiles: [{ name: 'gpu', display_name: 'GPU' }],
    session: {
      id,
      profile: 'gpu',
      started: new Date(START - 3600_000).toISOString(),
      deadline:
        deadlineInSeconds === null
          ? null
          : new Date(START + deadlineInSeconds * 1000).toISOString(),
      deadline_reason: 'session_limit',
      gpus: ['0']
    },
    warn_before_seconds: [900, 300]
  };
}

describe('DeadlineNotifier', () => {
  let notify: { warning: jest.Mock; info: jest.Mock };
  let storage: MemoryStorage;
  const disposables: { dispose(): void }[] = [];

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(START);
    notify = { warning: jest.fn(), info: jest.fn() };
    storage = new MemoryStorage();
  });

  afterEach(() => {
    disposables.splice(0).forEach(d => d.dispose());
    jest.useRealTimers();
  });

  async function start(answer: IMe): Promise<LabdeckModel> {
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(answer)
    });
    const notifier = new DeadlineNotifier({ model, notify, storage });
    disposables.push(notifier, model);
    await model.refresh();
    return model;
  }

  it('warns once per threshold on the live countdown, then says it ended', async () => {
    await start(me(20 * 60));
    expect(notify.warning).not.toHaveBeenCalled();

    // No fetch happens: the per-second check alone finds the crossings.
    await jest.advanceTimersByTimeAsync(5 * 60 * 1000);
    expect(notify.warning).toHaveBeenCalledTimes(1);
    expect(notify.warning).toHaveBeenLastCalledWith(
      'Your GPU session stops in 15 minutes (session limit). Save your work: files are kept.'
    );

    await jest.advanceTimersByTimeAsync(10 * 60 * 1000);
    expect(notify.warning).toHaveBeenCalledTimes(2);
    expect(notify.warning).toHaveBeenLastCalledWith(
      'Your GPU session stops in 5 minutes (session limit). Save your work: files are kept.'
    );
    expect(notify.info).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(5 * 60 * 1000 + 1000);
    expect(notify.warning).toHaveBeenCalledTimes(2);
    expect(notify.info).toHaveBeenCalledTimes(1);
    expect(notify.info.mock.calls[0][0]).toMatch(/^Your session has ended/);

    await jest.advanceTimersByTimeAsync(60 * 1000);
    expect(notify.info).toHaveBeenCalledTimes(1);
  });

  it('does not repeat a warning after a page reload', async () => {
    await start(me(10 * 60));
    expect(notify.warning).toHaveBeenCalledTimes(1);
    disposables.splice(0).forEach(d => d.dispose());

    // Same session, same sessionStorage: nothing new.
    await start(me(10 * 60));
    await jest.advanceTimersByTimeAsync(1000);
    expect(notify.warning).toHaveBeenCalledTimes(1);
    // A new session warns again.
    await start(me(10 * 60, 4));
    expect(notify.warning).toHaveBeenCalledTimes(2);
  });

  it('warns once, for the smallest threshold, when opened late', async () => {
    await start(me(4 * 60));
    expect(notify.warning).toHaveBeenCalledTimes(1);
    // The time really left, not "5 minutes".
    expect(notify.warning.mock.calls[0][0]).toContain('stops in 4 minutes');
    await jest.advanceTimersByTimeAsync(60 * 1000);
    expect(notify.warning).toHaveBeenCalledTimes(1);
  });

  it('stays quiet without a deadline', async () => {
    await start(me(null));
    await jest.advanceTimersByTimeAsync(3600 * 1000);
    expect(notify.warning).not.toHaveBeenCalled();
    expect(notify.info).not.toHaveBeenCalled();
  });

  it('works without storage', async () => {
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me(10 * 60))
    });
    const notifier = new DeadlineNotifier({ model, notify, storage: null });
    disposables.push(notifier, model);
    await model.refresh();
    await model.refresh();
    await jest.advanceTimersByTimeAsync(2000);
    expect(notify.warning).toHaveBeenCalledTimes(1);
  });
});
