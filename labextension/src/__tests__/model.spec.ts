import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { IMe } from '../tokens';

const alice: IMe = { name: 'alice', admin: false, groups: ['class-a'] };

describe('LabdeckModel', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('fetches me, stores it and emits changed', async () => {
    const fetchMe = jest.fn().mockResolvedValue(alice);
    const model = new LabdeckModel({ fetchMe });
    const changed = jest.fn();
    model.changed.connect(changed);

    const pending = model.refresh();
    expect(model.loading).toBe(true);
    await pending;

    expect(model.me).toEqual(alice);
    expect(model.error).toBeNull();
    expect(model.loading).toBe(false);
    expect(model.lastUpdated).not.toBeNull();
    expect(changed).toHaveBeenCalledTimes(2);
    model.dispose();
  });

  it('shares one request between concurrent refreshes', async () => {
    const fetchMe = jest.fn().mockResolvedValue(alice);
    const model = new LabdeckModel({ fetchMe });
    await Promise.all([model.refresh(), model.refresh(), model.refresh()]);
    expect(fetchMe).toHaveBeenCalledTimes(1);
    model.dispose();
  });

  it('keeps the last good value and exposes the error', async () => {
    const fetchMe = jest
      .fn()
      .mockResolvedValueOnce(alice)
      .mockRejectedValueOnce(
        new LabdeckRequestError('The service is down.', 503, 'unavailable')
      );
    const model = new LabdeckModel({ fetchMe });
    await model.refresh();
    await model.refresh();
    expect(model.me).toEqual(alice);
    expect(model.error?.message).toBe('The service is down.');
    expect(model.error?.status).toBe(503);
    model.dispose();
  });

  it('wraps unexpected errors', async () => {
    const fetchMe = jest.fn().mockRejectedValue(new Error('boom'));
    const model = new LabdeckModel({ fetchMe });
    await model.refresh();
    expect(model.error).toBeInstanceOf(LabdeckRequestError);
    expect(model.error?.message).toBe('boom');
    model.dispose();
  });

  it('polls at the configured interval, never below the minimum', async () => {
    jest.useFakeTimers();
    const fetchMe = jest.fn().mockResolvedValue(alice);
    const model = new LabdeckModel({ fetchMe, refreshIntervalSeconds: 1 });
    expect(model.refreshIntervalSeconds).toBe(5);
    model.start();
    expect(model.loading).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(fetchMe).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(4999);
    expect(fetchMe).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(2);

    // The setting changes: from the next poll on.
    model.refreshIntervalSeconds = 60;
    expect(model.refreshIntervalSeconds).toBe(60);
    await jest.advanceTimersByTimeAsync(5000);
    expect(fetchMe).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(fetchMe).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(4);

    model.dispose();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(fetchMe).toHaveBeenCalledTimes(4);
  });

  it('backs off after failures, up to 300 s', async () => {
    jest.useFakeTimers();
    // The longest wait the jittered backoff may choose.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    const fetchMe = jest.fn().mockRejectedValue(new Error('down'));
    const model = new LabdeckModel({ fetchMe, refreshIntervalSeconds: 60 });
    model.start();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fetchMe).toHaveBeenCalledTimes(2);
    // 3 × 60 s, then capped.
    await jest.advanceTimersByTimeAsync(180_000);
    expect(fetchMe).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(299_999);
    expect(fetchMe).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(4);
    expect(model.error?.message).toBe('down');
    model.dispose();
    random.mockRestore();
  });
});
