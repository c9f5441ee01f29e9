import { PolledModel } from '../polling';
import { LabdeckRequestError, RESTARTING_MESSAGE } from '../request';

interface IAnswer {
  /** Whether the answer is about to change by itself. */
  busy: boolean;
}

/** A polled model over a mock fetch: 10 s, 1 s while busy, 5 min at most. */
class TestModel extends PolledModel<IAnswer> {
  constructor(readonly fetch: jest.Mock<Promise<IAnswer>, []>) {
    super({
      interval: 10_000,
      fastInterval: 1000,
      maxInterval: 300_000,
      name: 'test'
    });
  }

  show(data: IAnswer): void {
    this.setData(data);
  }

  afterChange(): Promise<void> {
    return this.refreshAfterChange();
  }

  protected load(): Promise<IAnswer> {
    return this.fetch();
  }

  protected isTransitional(data: IAnswer): boolean {
    return data.busy;
  }
}

const idle: IAnswer = { busy: false };
const busy: IAnswer = { busy: true };

/** A promise and the functions that settle it. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Hide or show the page, as the browser does when the tab changes. */
function setVisibility(state: DocumentVisibilityState): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => state
  });
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('PolledModel', () => {
  let model: TestModel | null = null;

  afterEach(() => {
    model?.dispose();
    model = null;
    setVisibility('visible');
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** Poll `fetch` on fake timers, past the first fetch. */
  async function startPolling(
    fetch: jest.Mock<Promise<IAnswer>, []>
  ): Promise<TestModel> {
    jest.useFakeTimers();
    model = new TestModel(fetch);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    return model;
  }

  it('shares one request between concurrent refreshes and never rejects', async () => {
    const answer = deferred<IAnswer>();
    model = new TestModel(jest.fn(() => answer.promise));
    const changed = jest.fn();
    model.changed.connect(changed);

    const calls = [model.refresh(), model.refresh(), model.refresh()];
    expect(model.loading).toBe(true);
    expect(model.fetch).toHaveBeenCalledTimes(1);
    answer.reject(new LabdeckRequestError('Down.', 502, 'bad_gateway'));
    await expect(Promise.all(calls)).resolves.toEqual([
      undefined,
      undefined,
      undefined
    ]);

    expect(model.loading).toBe(false);
    expect(model.error?.code).toBe('bad_gateway');
    expect(model.data).toBeNull();
    // Once when the request starts, once when it ends.
    expect(changed).toHaveBeenCalledTimes(2);
  });

  it('keeps the last good data when a fetch fails, and clears the error after', async () => {
    model = new TestModel(
      jest
        .fn()
        .mockResolvedValueOnce(idle)
        .mockRejectedValueOnce(new Error('boom'))
        .mockResolvedValueOnce(busy)
    );
    await model.refresh();
    const updated = model.lastUpdated;
    expect(updated).not.toBeNull();

    await model.refresh();
    expect(model.data).toBe(idle);
    expect(model.error).toBeInstanceOf(LabdeckRequestError);
    expect(model.error?.message).toBe('boom');
    expect(model.lastUpdated).toBe(updated);

    await model.refresh();
    expect(model.data).toBe(busy);
    expect(model.error).toBeNull();
  });

  it('backs off after failures up to the maximum, then recovers', async () => {
    jest.useFakeTimers();
    // The longest wait the jittered backoff may choose: 3 × the last one.
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    const fetch = jest.fn().mockRejectedValue(new Error('down'));
    model = new TestModel(fetch);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(fetch).toHaveBeenCalledTimes(1);

    // One period, then 3 × the last wait, capped at 300 s.
    for (const wait of [10_000, 30_000, 90_000, 270_000, 300_000, 300_000]) {
      const calls = fetch.mock.calls.length;
      await jest.advanceTimersByTimeAsync(wait - 1);
      expect(fetch).toHaveBeenCalledTimes(calls);
      await jest.advanceTimersByTimeAsync(1);
      expect(fetch).toHaveBeenCalledTimes(calls + 1);
    }

    // The next success brings the normal period back.
    fetch.mockResolvedValue(idle);
    await jest.advanceTimersByTimeAsync(300_000);
    expect(model.error).toBeNull();
    const calls = fetch.mock.calls.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(calls + 1);
  });

  it('waits between one period and the maximum after a failure, whatever the jitter', async () => {
    jest.useFakeTimers();
    const jitter = [0.5, 0.999999, 0, 0.25];
    let draws = 0;
    jest.spyOn(Math, 'random').mockImplementation(() => jitter[draws++ % 4]);
    const times: number[] = [];
    const fetch = jest.fn(() => {
      times.push(Date.now());
      return Promise.reject(new Error('down'));
    });
    model = new TestModel(fetch);
    model.start();
    await jest.advanceTimersByTimeAsync(60 * 60_000);

    const waits = times.slice(1).map((time, i) => time - times[i]);
    expect(waits.length).toBeGreaterThan(10);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(300_000);
  });

  it('stands by while the page is hidden and fetches when it is shown', async () => {
    const fetch = jest.fn().mockResolvedValue(idle);
    model = await startPolling(fetch);
    expect(fetch).toHaveBeenCalledTimes(1);

    setVisibility('hidden');
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(fetch).toHaveBeenCalledTimes(1);

    setVisibility('visible');
    await jest.advanceTimersByTimeAsync(0);
    expect(fetch).toHaveBeenCalledTimes(2);
    // Then the normal period again.
    await jest.advanceTimersByTimeAsync(9999);
    expect(fetch).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('polls fast while the data is transitional', async () => {
    const fetch = jest.fn().mockResolvedValue(busy);
    model = await startPolling(fetch);
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(2);

    fetch.mockResolvedValue(idle);
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(9999);
    expect(fetch).toHaveBeenCalledTimes(3);

    // A change made here (a cluster created) brings the next poll forward.
    model.show(busy);
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(4);
  });

  it('takes a new period: shorter at once, longer from the next poll', async () => {
    const fetch = jest.fn().mockResolvedValue(idle);
    model = await startPolling(fetch);

    model.interval = 60_000;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(fetch).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(3);

    await jest.advanceTimersByTimeAsync(1000);
    model.interval = 5000;
    await jest.advanceTimersByTimeAsync(4999);
    expect(fetch).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(4);
  });

  it('restarts the rhythm after a successful refresh', async () => {
    jest.useFakeTimers();
    const fetch = jest.fn().mockResolvedValue(idle);
    model = new TestModel(fetch);
    model.start();
    await jest.advanceTimersByTimeAsync(7000);
    await model.refresh();
    expect(fetch).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(9999);
    expect(fetch).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('fetches anew after a change rather than trust an answer on its way', async () => {
    const stale = deferred<IAnswer>();
    const fetch = jest
      .fn()
      .mockReturnValueOnce(stale.promise)
      .mockResolvedValueOnce(busy);
    model = new TestModel(fetch);
    void model.refresh();
    const done = model.afterChange();
    expect(fetch).toHaveBeenCalledTimes(1);
    stale.resolve(idle);
    await done;
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(model.data).toBe(busy);
  });

  describe("while labdeck's control plane restarts", () => {
    const restarting = new LabdeckRequestError(
      RESTARTING_MESSAGE,
      503,
      'service_restarting',
      3
    );

    it('shows why, retries with a short backoff, then clears the message', async () => {
      // The longest wait the jittered backoff may choose.
      jest.spyOn(Math, 'random').mockReturnValue(0.999999);
      const fetch = jest.fn().mockResolvedValue(idle);
      model = await startPolling(fetch);

      fetch.mockRejectedValue(restarting);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(fetch).toHaveBeenCalledTimes(2);
      expect(model.error?.message).toBe(RESTARTING_MESSAGE);
      expect(model.data).toBe(idle);

      // Backs off, but never beyond 15 s (other failures: up to 300 s).
      for (let i = 0; i < 4; i++) {
        const calls = fetch.mock.calls.length;
        await jest.advanceTimersByTimeAsync(14_999);
        expect(fetch).toHaveBeenCalledTimes(calls);
        await jest.advanceTimersByTimeAsync(1);
        expect(fetch).toHaveBeenCalledTimes(calls + 1);
        expect(model.error?.code).toBe('service_restarting');
      }

      // Back: the message goes and the usual period returns.
      fetch.mockResolvedValue(busy);
      await jest.advanceTimersByTimeAsync(15_000);
      expect(model.error).toBeNull();
      expect(model.data).toBe(busy);
      fetch.mockResolvedValue(idle);
      const calls = fetch.mock.calls.length;
      await jest.advanceTimersByTimeAsync(1000);
      expect(fetch).toHaveBeenCalledTimes(calls + 1);
      await jest.advanceTimersByTimeAsync(9999);
      expect(fetch).toHaveBeenCalledTimes(calls + 1);
      await jest.advanceTimersByTimeAsync(1);
      expect(fetch).toHaveBeenCalledTimes(calls + 2);
    });

    it('retries after Retry-After, also when the first fetch fails', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const fetch = jest.fn().mockRejectedValue(restarting);
      model = await startPolling(fetch);
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(model.error?.message).toBe(RESTARTING_MESSAGE);

      await jest.advanceTimersByTimeAsync(2999);
      expect(fetch).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(fetch).toHaveBeenCalledTimes(2);

      fetch.mockResolvedValue(idle);
      await jest.advanceTimersByTimeAsync(3000);
      expect(fetch).toHaveBeenCalledTimes(3);
      expect(model.error).toBeNull();
      expect(model.data).toBe(idle);
    });

    it('does not retry sooner for other failures', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const fetch = jest
        .fn()
        .mockRejectedValue(new LabdeckRequestError('No.', 403, 'forbidden'));
      model = await startPolling(fetch);
      await jest.advanceTimersByTimeAsync(9999);
      expect(fetch).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(fetch).toHaveBeenCalledTimes(2);
    });
  });

  it('does nothing once disposed', async () => {
    const fetch = jest.fn().mockResolvedValue(idle);
    model = await startPolling(fetch);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    await jest.advanceTimersByTimeAsync(600_000);
    setVisibility('visible');
    await model.refresh();
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
