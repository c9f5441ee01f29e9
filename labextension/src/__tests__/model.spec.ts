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
    const model = new LabdeckModel({ fetchMe, document: null });
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
    const model = new LabdeckModel({ fetchMe, document: null });
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
    const model = new LabdeckModel({ fetchMe, document: null });
    await model.refresh();
    await model.refresh();
    expect(model.me).toEqual(alice);
    expect(model.error?.message).toBe('The service is down.');
    expect(model.error?.status).toBe(503);
    model.dispose();
  });

  it('wraps unexpected errors', async () => {
    const fetchMe = jest.fn().mockRejectedValue(new Error('boom'));
    const model = new LabdeckModel({ fetchMe, document: null });
    await model.refresh();
    expect(model.error).toBeInstanceOf(LabdeckRequestError);
    expect(model.error?.message).toBe('boom');
    model.dispose();
  });

  it('polls at the configured interval, never below the minimum', async () => {
    jest.useFakeTimers();
    const fetchMe = jest.fn().mockResolvedValue(alice);
    const model = new LabdeckModel({
      fetchMe,
      document: null,
      refreshIntervalSeconds: 1
    });
    expect(model.refreshIntervalSeconds).toBe(5);
    model.start();
    await Promise.resolve();
    await jest.advanceTimersByTimeAsync(0);
    expect(fetchMe).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(4999);
    expect(fetchMe).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(2);

    model.refreshIntervalSeconds = 60;
    await jest.advanceTimersByTimeAsync(59_999);
    expect(fetchMe).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(3);

    model.dispose();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(fetchMe).toHaveBeenCalledTimes(3);
  });

  it('backs off after failures', async () => {
    jest.useFakeTimers();
    const fetchMe = jest.fn().mockRejectedValue(new Error('down'));
    const model = new LabdeckModel({
      fetchMe,
      document: null,
      refreshIntervalSeconds: 10
    });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(fetchMe).toHaveBeenCalledTimes(1);
    // One failure: next try after 2 × 10 s.
    await jest.advanceTimersByTimeAsync(19_999);
    expect(fetchMe).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fetchMe).toHaveBeenCalledTimes(2);
    // Two failures: 4 × 10 s.
    await jest.advanceTimersByTimeAsync(40_000);
    expect(fetchMe).toHaveBeenCalledTimes(3);
    model.dispose();
  });
});
