import { LabdeckModel } from '../model';
import { DeadlineNotifier } from '../notifier';
import { LabdeckSidebar } from '../sidebar';
import { ISparkAPI } from '../spark/api';
import {
  budgetCluster,
  budgetCountdown,
  budgetWarning,
  coreTime,
  coreTimeProblem,
  describeCoreTime
} from '../spark/logic';
import { SparkModel } from '../spark/model';
import { sparkSection } from '../spark/section';
import {
  ClusterState,
  ICluster,
  ICreateClusterRequest,
  ISparkConnection
} from '../spark/tokens';
import { IMe } from '../tokens';
import { attachSidebar, byTestId, settle } from './utils';
import { makeCluster } from './clusters';

const H = 3600;
const START = Date.parse('2026-11-25T12:00:00Z');

function inSeconds(seconds: number): string {
  return new Date(START + seconds * 1000).toISOString();
}

function cluster(
  id: string,
  state: ClusterState,
  overrides: Partial<ICluster> = {}
): ICluster {
  return makeCluster(id, state, {
    created: inSeconds(-60),
    started: inSeconds(-30),
    ...overrides
  });
}

/** `me` of alice with 16 h of daily Spark core time, `used` of it used. */
function alice(used: number, limit: number | null = 16 * H): IMe {
  return {
    name: 'alice',
    admin: false,
    groups: [],
    quota: {
      storage_bytes: null,
      spark: {
        clusters: 2,
        workers: 4,
        cores: 4,
        memory_bytes: 8 * 2 ** 30,
        daily_core_seconds: limit
      }
    },
    resources: {
      spark: {
        limits: {
          clusters: 2,
          workers: 4,
          cores: 4,
          memory_bytes: 8 * 2 ** 30,
          daily_core_seconds: limit
        },
        in_use: {
          clusters: 0,
          workers: 0,
          cores: 0,
          memory_bytes: 0,
          daily_core_seconds: used
        },
        left: {
          clusters: 2,
          workers: 4,
          cores: 4,
          memory_bytes: 8 * 2 ** 30,
          daily_core_seconds: limit === null ? null : Math.max(0, limit - used)
        },
        deadline: null,
        resets_at: inSeconds(20 * H)
      }
    }
  } as unknown as IMe;
}

/** The clusters the service lists, changed by the test between polls. */
class ListOnly implements ISparkAPI {
  constructor(public clusters: ICluster[]) {}
  async list(): Promise<ICluster[]> {
    return this.clusters.map(c => ({ ...c }));
  }
  async get(id: string): Promise<ICluster> {
    return { ...this.clusters.find(c => c.id === id)! };
  }
  async create(request: ICreateClusterRequest): Promise<ICluster> {
    throw new Error(`not here: ${request.name}`);
  }
  async terminate(): Promise<void> {}
  async connection(): Promise<ISparkConnection> {
    return { cluster: null, config_path: '/home/x/config.json' };
  }
  async connect(): Promise<ISparkConnection> {
    throw new Error('not here');
  }
}

describe('daily Spark core time: logic', () => {
  it('reads the core time from me.resources.spark', () => {
    const core = coreTime(alice(4 * H + 20 * 60));
    expect(core).toEqual({
      limit: 16 * H,
      used: 4 * H + 20 * 60,
      left: 11 * H + 40 * 60,
      resetsAt: inSeconds(20 * H)
    });
    expect(describeCoreTime(core)).toBe('11 h 40 min of 16 h core time today');
    expect(coreTimeProblem(core, START)).toBeNull();
    // unlimited, or an older service that does not say
    expect(describeCoreTime(coreTime(alice(100, null)))).toBeNull();
    expect(coreTime({ name: 'a', admin: false, groups: [] })).toBeNull();
  });

  it('says why nothing can start once it is used up', () => {
    const spent = coreTimeProblem(coreTime(alice(16 * H)), START);
    expect(spent).toMatch(
      /^Your Spark core time for today is used up; it renews at (tomorrow )?\d\d:\d\d\.$/
    );
    expect(coreTimeProblem(coreTime(alice(0, 0)), START)).toBe(
      'You have no Spark core time. Ask an admin for a quota.'
    );
  });

  it("counts down to the user's running cluster that stops first", () => {
    const clusters = [
      cluster('a', 'RUNNING', { deadline: inSeconds(900) }),
      cluster('b', 'RUNNING', { deadline: inSeconds(600) }),
      cluster('bob', 'RUNNING', { user: 'bob', deadline: inSeconds(60) }),
      cluster('c', 'STARTING', { deadline: null }),
      cluster('d', 'TERMINATED', { deadline: inSeconds(10) }),
      cluster('e', 'RUNNING')
    ];
    expect(budgetCluster(clusters, 'alice')?.id).toBe('b');
    expect(budgetCluster(clusters, 'bob')?.id).toBe('bob');
    expect(budgetCluster([cluster('e', 'RUNNING')], 'alice')).toBeNull();
    const countdown = budgetCountdown(clusters, 'alice')!;
    expect(countdown.deadline).toBe(inSeconds(600));
    expect(countdown.warning(300)).toBe(budgetWarning(300));
    expect(countdown.warning(300)).toBe(
      'Your Spark clusters stop in 5 minutes (daily core time). Save your work: files are kept.'
    );
    expect(budgetCountdown(null, 'alice')).toBeNull();
  });
});

describe('daily Spark core time: warnings', () => {
  let notify: { warning: jest.Mock; info: jest.Mock };
  const disposables: { dispose(): void }[] = [];

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(START);
    notify = { warning: jest.fn(), info: jest.fn() };
  });

  afterEach(() => {
    disposables.splice(0).forEach(d => d.dispose());
    jest.useRealTimers();
  });

  async function watch(api: ListOnly): Promise<SparkModel> {
    const model = new SparkModel({ api });
    const notifier = new DeadlineNotifier({
      model,
      countdown: () => budgetCountdown(model.clusters, 'alice'),
      notify,
      storage: null
    });
    disposables.push(notifier, model);
    await model.refresh();
    return model;
  }

  it('warns at each threshold as the session countdown does, then says it ended', async () => {
    const api = new ListOnly([
      cluster('a', 'RUNNING', {
        deadline: inSeconds(20 * 60),
        deadline_reason: 'daily_budget',
        warn_before_seconds: [900, 300]
      })
    ]);
    await watch(api);
    expect(notify.warning).not.toHaveBeenCalled();

    // No poll happens: the per-second check alone finds the crossings.
    await jest.advanceTimersByTimeAsync(5 * 60 * 1000);
    expect(notify.warning.mock.calls).toEqual([[budgetWarning(900)]]);
    await jest.advanceTimersByTimeAsync(10 * 60 * 1000);
    expect(notify.warning.mock.calls).toEqual([
      [budgetWarning(900)],
      [budgetWarning(300)]
    ]);
    expect(notify.info).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(5 * 60 * 1000 + 1000);
    expect(notify.warning).toHaveBeenCalledTimes(2);
    expect(notify.info.mock.calls).toEqual([
      [
        'Your Spark clusters were terminated: your daily Spark core time is used up. Your files are kept.'
      ]
    ]);
    await jest.advanceTimersByTimeAsync(60 * 1000);
    expect(notify.info).toHaveBeenCalledTimes(1);
  });

  it('follows a deadline that moves, and is quiet without one', async () => {
    const api = new ListOnly([
      cluster('a', 'RUNNING', { deadline: inSeconds(2 * H) })
    ]);
    const model = await watch(api);
    await jest.advanceTimersByTimeAsync(60 * 1000);
    expect(notify.warning).not.toHaveBeenCalled();
    // an admin takes time away: the next poll brings the deadline close
    api.clusters = [cluster('a', 'RUNNING', { deadline: inSeconds(60 + 200) })];
    await model.refresh();
    await jest.advanceTimersByTimeAsync(1000);
    // opened late for both thresholds: one warning, of the time really left
    expect(notify.warning.mock.calls).toEqual([[budgetWarning(240)]]);
    // terminated by its owner meanwhile: nothing more to say
    api.clusters = [cluster('a', 'TERMINATED', { deadline: null })];
    await model.refresh();
    await jest.advanceTimersByTimeAsync(10 * 60 * 1000);
    expect(notify.warning).toHaveBeenCalledTimes(1);
    expect(notify.info).not.toHaveBeenCalled();
  });
});

describe('daily Spark core time: panel', () => {
  let widget: LabdeckSidebar | null = null;
  let spark: SparkModel | null = null;

  afterEach(() => {
    spark?.dispose();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
    spark = null;
  });

  async function show(api: ListOnly, me: IMe): Promise<HTMLElement> {
    const model = new LabdeckModel({ fetchMe: () => Promise.resolve(me) });
    spark = new SparkModel({ api });
    widget = attachSidebar(model, [sparkSection(spark)]);
    await model.refresh();
    await spark.refresh();
    widget.update();
    await settle();
    return widget.node;
  }

  it('shows the time left on a running cluster, in a warning style at the end', async () => {
    const soon = new Date(Date.now() + 4 * 60 * 1000).toISOString();
    const later = new Date(Date.now() + 2 * H * 1000).toISOString();
    const api = new ListOnly([
      cluster('late', 'RUNNING', { deadline: later }),
      cluster('soon', 'RUNNING', {
        deadline: soon,
        warn_before_seconds: [900, 300]
      }),
      cluster('none', 'RUNNING'),
      cluster('over', 'RUNNING', { deadline: new Date(0).toISOString() })
    ]);
    const node = await show(api, alice(4 * H));
    const budgets = Array.from(
      node.querySelectorAll<HTMLElement>('[data-testid="labdeck-spark-budget"]')
    );
    expect(budgets).toHaveLength(3); // none without a deadline
    expect(budgets[0].textContent).toMatch(
      /^Core time: (02:00:0\d|01:59:5\d) left today$/
    );
    expect(budgets[1].textContent).toMatch(
      /^Core time: 00:0[34]:\d\d left today$/
    );
    expect(budgets[2].textContent).toBe(
      'Core time used up for today: terminating.'
    );
    expect(budgets.map(b => b.dataset.warn)).toEqual(['false', 'true', 'true']);
    expect(budgets[1].classList).toContain('jp-mod-warn');
    expect(byTestId(node, 'labdeck-spark-limits')?.textContent).toContain(
      ' · 12 h of 16 h core time today'
    );
  });

  it('keeps the form from creating a cluster once the core time is used up', async () => {
    const node = await show(new ListOnly([]), alice(16 * H));
    expect(byTestId(node, 'labdeck-spark-limits')?.textContent).toContain(
      '0 min of 16 h core time today'
    );
    expect(
      byTestId(node, 'labdeck-spark-create-problems')?.textContent
    ).toMatch(/^Your Spark core time for today is used up; it renews at/);
    expect(
      (byTestId(node, 'labdeck-spark-create-submit') as HTMLButtonElement)
        .disabled
    ).toBe(true);
  });
});
