import { Widget } from '@lumino/widgets';

import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { ISessionSectionOptions, sessionSection } from '../session/section';
import { LabdeckSidebar } from '../sidebar';
import { LabdeckStatus } from '../status';
import { IMe, ISessionInfo } from '../tokens';
import { attachSidebar, byTestId, pinClock, settle } from './utils';

/** `me` as the API sends it, with a deadline `secondsLeft` from now. */
function alice(secondsLeft: number | null, overrides: Partial<IMe> = {}): IMe {
  const now = Date.now();
  return {
    name: 'alice',
    kind: 'user',
    admin: false,
    groups: ['class-a'],
    profiles: [
      { name: 'cpu', display_name: 'CPU', gpus: 0 },
      { name: 'gpu', display_name: 'GPU', gpus: 1 }
    ],
    quota: {
      cpu: { session_seconds: 14400, daily_seconds: 28800 },
      gpu: { session_seconds: 14400, daily_seconds: null },
      storage_bytes: 15e9
    },
    usage: {
      cpu: {
        used_seconds: 120,
        remaining_seconds: 28680,
        resets_at: new Date(now + 3600_000).toISOString()
      },
      gpu: { used_seconds: 0, remaining_seconds: null, resets_at: null }
    },
    session: {
      id: 3,
      profile: 'gpu',
      started: new Date(now - 60_000).toISOString(),
      deadline:
        secondsLeft === null
          ? null
          : new Date(now + secondsLeft * 1000).toISOString(),
      deadline_reason: secondsLeft === null ? null : 'session_limit',
      gpus: ['0', '1']
    },
    queue: null,
    storage: { used_bytes: 1.2e9, limit_bytes: 15e9 },
    warn_before_seconds: [900, 300],
    ...overrides
  };
}

describe('Session section', () => {
  let widget: LabdeckSidebar | null = null;

  // 10:00 local: the deadlines below fall on the same day, whenever this runs.
  beforeEach(() => pinClock(new Date(2026, 10, 26, 10, 0, 0)));

  afterEach(() => {
    jest.useRealTimers();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
  });

  async function show(
    me: IMe,
    options: ISessionSectionOptions = {}
  ): Promise<HTMLElement> {
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me)
    });
    widget = attachSidebar(model, [sessionSection(model, options)]);
    await model.refresh();
    widget.update();
    await settle();
    return widget.node;
  }

  it('shows the runtime, GPUs, countdown and its limit', async () => {
    const node = await show(alice(3723));
    expect(byTestId(node, 'labdeck-session-profile')?.textContent).toBe('GPU');
    expect(byTestId(node, 'labdeck-session-gpus')?.textContent).toBe('0, 1');
    expect(byTestId(node, 'labdeck-session-countdown')?.textContent).toBe(
      '01:02:03'
    );
    expect(byTestId(node, 'labdeck-session-limit')?.textContent).toBe(
      'stops at 11:02 · session limit'
    );
  });

  it('says when there is no time limit', async () => {
    const node = await show(alice(null));
    expect(byTestId(node, 'labdeck-session-countdown')?.textContent).toBe(
      'no time limit'
    );
  });

  it('shows usage per profile in human durations', async () => {
    const node = await show(alice(3600));
    const cpu = byTestId(node, 'labdeck-usage-cpu');
    expect(cpu?.textContent).toBe(
      'CPU today: 2 min used · 7 h 58 min left · renews 11:00'
    );
    expect(cpu?.querySelector('[role="progressbar"]')).not.toBeNull();
    const gpu = byTestId(node, 'labdeck-usage-gpu');
    expect(gpu?.textContent).toBe('GPU today: 0 min used · no daily limit');
    expect(gpu?.querySelector('[role="progressbar"]')).toBeNull();
  });

  it('colours the storage bar and says when it is full', async () => {
    let node = await show(alice(3600));
    let storage = byTestId(node, 'labdeck-storage');
    expect(storage?.textContent).toBe('Storage: 1.2 GB of 15 GB');
    expect(
      storage?.querySelector('[data-level]')?.getAttribute('data-level')
    ).toBe('ok');
    expect(byTestId(node, 'labdeck-storage-full')).toBeNull();
    widget?.model.dispose();
    widget?.dispose();

    node = await show(
      alice(3600, { storage: { used_bytes: 13.6e9, limit_bytes: 15e9 } })
    );
    storage = byTestId(node, 'labdeck-storage');
    expect(storage?.querySelector('.jp-mod-warn')).not.toBeNull();
    widget?.model.dispose();
    widget?.dispose();

    node = await show(
      alice(3600, { storage: { used_bytes: 15e9, limit_bytes: 15e9 } })
    );
    storage = byTestId(node, 'labdeck-storage');
    expect(storage?.querySelector('.jp-mod-danger')).not.toBeNull();
    expect(byTestId(node, 'labdeck-storage-full')?.textContent).toBe(
      'Storage full: delete files to save again'
    );
  });

  it('shows the place in the GPU queue', async () => {
    const node = await show(
      alice(null, { session: null, queue: { position: 2 } })
    );
    expect(byTestId(node, 'labdeck-queue')?.textContent).toBe(
      'Waiting for a GPU: number 2 in the queue'
    );
    expect(byTestId(node, 'labdeck-session-info')?.textContent).toBe(
      'No session running.'
    );
    expect(byTestId(node, 'labdeck-stop-session')).toBeNull();
  });

  it('stops the session, and shows why it could not', async () => {
    const stopSession = jest
      .fn<Promise<void>, [ISessionInfo]>()
      .mockResolvedValueOnce(undefined)
      .mockRejectedValueOnce(
        new LabdeckRequestError(
          'Session 3 has already ended.',
          409,
          'not_running'
        )
      );
    const node = await show(alice(3600), { stopSession });
    byTestId(node, 'labdeck-stop-session')?.click();
    await settle();
    expect(stopSession).toHaveBeenCalledWith(
      expect.objectContaining({ id: 3 })
    );
    expect(byTestId(node, 'labdeck-stop-error')).toBeNull();
    byTestId(node, 'labdeck-stop-session')?.click();
    await settle();
    expect(byTestId(node, 'labdeck-stop-error')?.textContent).toBe(
      'Session 3 has already ended.'
    );
  });

  it('offers the usage report to admins only', async () => {
    const open = jest.fn();
    let node = await show(alice(3600), { onOpenUsageReport: open });
    expect(byTestId(node, 'labdeck-open-usage-report')).toBeNull();
    widget?.model.dispose();
    widget?.dispose();

    node = await show(alice(3600, { admin: true }), {
      onOpenUsageReport: open
    });
    byTestId(node, 'labdeck-open-usage-report')?.click();
    expect(open).toHaveBeenCalledTimes(1);
  });
});

describe('Status bar countdown', () => {
  async function status(me: IMe): Promise<LabdeckStatus> {
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me)
    });
    const item = new LabdeckStatus({ model });
    Widget.attach(item, document.body);
    await model.refresh();
    item.update();
    await settle();
    return item;
  }

  it('shows the runtime display name and the time left', async () => {
    const item = await status(alice(3723));
    expect(item.node.textContent).toMatch(/^labdeck · GPU · 01:02:0[23] left$/);
    expect(item.node.querySelector('.jp-mod-warn')).toBeNull();
    item.dispose();
  });

  it('turns to a warning style in the last stretch', async () => {
    const item = await status(alice(299));
    expect(item.node.querySelector('.jp-mod-warn')).not.toBeNull();
    item.dispose();
  });

  it('shows the user without a session', async () => {
    const item = await status(alice(null, { session: null }));
    expect(item.node.textContent).toBe('labdeck · alice');
    item.dispose();
  });
});

describe('stopSession', () => {
  it('posts to sessions/<id>/stop', async () => {
    const { stopSession } = await import('../session/stop');
    const request = jest.fn().mockResolvedValue({ id: 3 });
    await stopSession(3, request);
    expect(request).toHaveBeenCalledWith('sessions/3/stop', { method: 'POST' });
  });
});
