import { progressFraction, progressText } from '../format';
import {
  checkForm,
  connectionText,
  defaultForm,
  describeDetail,
  describeLeft,
  describeSpec,
  detailsToFetch,
  formBounds,
  formatMemory,
  hubUrl,
  ICreateForm,
  idleText,
  isTransitional,
  limitsLeft,
  parseMemory,
  reasonText,
  sparkLimits,
  suggestName,
  usedAmounts,
  visibleClusters,
  withDetail
} from '../spark/logic';
import { ClusterState, ICluster } from '../spark/tokens';
import { makeCluster } from './clusters';

const GIB = 2 ** 30;

/** A cluster as `GET clusters` sends it. */
function cluster(
  id: string,
  state: ClusterState,
  overrides: Partial<ICluster> = {}
): ICluster {
  return makeCluster(
    id,
    state,
    {
      name: `name-${id}`,
      progress: { step: 'Running', done: 3, total: 3 },
      created: '2025-01-01T10:00:00Z',
      ...overrides
    },
    { name: `name-${id}`, workers: 2 }
  );
}

const LIMITS = { clusters: 2, workers: 4, cores: 4, memory_bytes: 8 * GIB };

function form(overrides: Partial<ICreateForm> = {}): ICreateForm {
  return {
    name: 'etl',
    workers: '1',
    cores: '1',
    memory: '1g',
    idleMinutes: '60',
    ...overrides
  };
}

describe('memory', () => {
  it('reads what the server reads', () => {
    expect(parseMemory('1024m')).toBe(GIB);
    expect(parseMemory('2g')).toBe(2 * GIB);
    expect(parseMemory('1536MiB')).toBe(1536 * 2 ** 20);
    expect(parseMemory(' 512 m ')).toBe(512 * 2 ** 20);
    expect(parseMemory(4096)).toBe(4096);
    expect(parseMemory('lots')).toBeNull();
    expect(parseMemory(null)).toBeNull();
  });

  it('writes it for people', () => {
    expect(formatMemory(512 * 2 ** 20)).toBe('512 MiB');
    expect(formatMemory(GIB)).toBe('1 GiB');
    expect(formatMemory(1.5 * GIB)).toBe('1.5 GiB');
    expect(formatMemory(0)).toBe('0 MiB');
  });
});

describe('limits', () => {
  it('finds the Spark limits in the quota', () => {
    expect(sparkLimits({ storage_bytes: 1, spark: LIMITS })).toEqual(LIMITS);
    expect(sparkLimits({ storage_bytes: 1 })).toBeNull();
    expect(sparkLimits(undefined)).toBeNull();
  });

  it('counts the live clusters of the user only', () => {
    const clusters = [
      cluster('a', 'RUNNING'),
      cluster('b', 'STARTING', {
        spec: {
          name: 'b',
          workers: 1,
          worker_cores: 2,
          worker_memory: '2g',
          idle_timeout_seconds: 60
        }
      }),
      cluster('c', 'TERMINATED'),
      cluster('d', 'FAILED'),
      cluster('e', 'RUNNING', { user: 'bob' })
    ];
    expect(usedAmounts(clusters, 'alice')).toEqual({
      clusters: 2,
      workers: 3,
      cores: 4,
      memory_bytes: 4 * GIB
    });
    expect(usedAmounts(clusters).clusters).toBe(3);
  });

  it('computes what is left, never below zero, null when unlimited', () => {
    const used = { clusters: 1, workers: 5, cores: 2, memory_bytes: 2 * GIB };
    expect(limitsLeft(LIMITS, used)).toEqual({
      clusters: 1,
      workers: 0,
      cores: 2,
      memory_bytes: 6 * GIB
    });
    expect(limitsLeft({ clusters: 2, workers: null }, used)).toEqual({
      clusters: 1,
      workers: null,
      cores: null,
      memory_bytes: null
    });
    expect(limitsLeft(null, used).clusters).toBeNull();
  });

  it('describes what is left', () => {
    const left = limitsLeft(LIMITS, usedAmounts([cluster('a', 'RUNNING')]));
    expect(describeLeft(LIMITS, left)).toBe(
      '1 of 2 clusters · 2 of 4 workers · 2 of 4 cores · 6 GiB of 8 GiB memory'
    );
    expect(describeLeft(null, limitsLeft(null, usedAmounts([])))).toBeNull();
  });
});

describe('create form', () => {
  const fresh = limitsLeft(LIMITS, usedAmounts([]));

  it('starts with a free name and sane sizes', () => {
    expect(defaultForm([])).toEqual({
      name: 'spark-1',
      workers: '1',
      cores: '1',
      memory: '1g',
      idleMinutes: '60'
    });
    const taken = [
      cluster('a', 'RUNNING', { name: 'spark-1' }),
      cluster('b', 'TERMINATED', { name: 'spark-2' })
    ];
    expect(suggestName(taken)).toBe('spark-2');
  });

  it('bounds the inputs by what is left', () => {
    const bounds = formBounds(form({ cores: '2', memory: '2g' }), fresh);
    expect(bounds.maxWorkers).toBe(2);
    expect(bounds.maxCores).toBe(4);
    expect(bounds.blocked).toBe(false);
    const four = formBounds(form({ workers: '4' }), fresh);
    expect(four.maxCores).toBe(1);
    const allowed = four.memory.filter(m => !m.disabled).map(m => m.value);
    expect(allowed).toEqual(['512m', '1g', '2g']);
    expect(four.memory.find(m => m.value === '2g')?.label).toBe('2 GiB');
  });

  it('leaves unlimited inputs unbounded', () => {
    const bounds = formBounds(form(), limitsLeft(null, usedAmounts([])));
    expect(bounds.maxWorkers).toBeNull();
    expect(bounds.maxCores).toBeNull();
    expect(bounds.memory.every(m => !m.disabled)).toBe(true);
  });

  it('turns a good form into the request', () => {
    expect(checkForm(form({ name: ' etl ', workers: '2' }), fresh)).toEqual({
      ok: true,
      request: {
        name: 'etl',
        workers: 2,
        worker_cores: 1,
        worker_memory: '1g',
        idle_timeout_seconds: 3600
      }
    });
  });

  it('says what is wrong with a bad form', () => {
    const check = checkForm(
      form({ name: '-x', workers: '0', cores: 'two', idleMinutes: '0' }),
      fresh
    );
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problems).toEqual([
      'Name: 1 to 63 letters, digits, spaces, dots, dashes or underscores.',
      'Workers: a whole number, at least 1.',
      'Cores per worker: a whole number, at least 1.',
      'Idle timeout: 1 to 10080 minutes (7 days).'
    ]);
  });

  it('refuses what is over the limits', () => {
    const check = checkForm(form({ workers: '3', memory: '4g' }), fresh);
    expect(!check.ok && check.problems).toEqual([
      'This cluster needs 12 GiB of memory; 8 GiB is left.'
    ]);
    const cores = checkForm(form({ workers: '2', cores: '3' }), fresh);
    expect(!cores.ok && cores.problems).toEqual([
      'This cluster needs 6 cores; 4 left.'
    ]);
    const full = limitsLeft(
      LIMITS,
      usedAmounts([cluster('a', 'RUNNING'), cluster('b', 'STARTING')])
    );
    expect(formBounds(form(), full).blocked).toBe(true);
    const blocked = checkForm(form(), full);
    expect(!blocked.ok && blocked.problems[0]).toMatch(/terminate one first/);
  });
});

describe('polling', () => {
  it('follows starting and terminating clusters closely', () => {
    expect(isTransitional('STARTING')).toBe(true);
    expect(isTransitional('TERMINATING')).toBe(true);
    expect(isTransitional('RUNNING')).toBe(false);
    expect(isTransitional('TERMINATED')).toBe(false);
    expect(isTransitional('FAILED')).toBe(false);
  });

  it('fetches details of running clusters (only new ones on fast polls)', () => {
    const list = [
      cluster('a', 'RUNNING'),
      cluster('b', 'RUNNING'),
      cluster('c', 'STARTING')
    ];
    const known = new Map([
      ['a', cluster('a', 'RUNNING', { workers_alive: 2 })]
    ]);
    expect(detailsToFetch(list, known, false)).toEqual(['a', 'b']);
    expect(detailsToFetch(list, known, true)).toEqual(['b']);
  });

  it('keeps detail only while running', () => {
    const detail = cluster('a', 'RUNNING', { workers_alive: 2, cores: 2 });
    expect(withDetail(cluster('a', 'RUNNING'), detail).workers_alive).toBe(2);
    expect(
      withDetail(cluster('a', 'TERMINATING'), detail).workers_alive
    ).toBeUndefined();
  });
});

describe('wording', () => {
  it('shows live clusters and the newest ended ones', () => {
    const list = [
      cluster('e1', 'TERMINATED'),
      cluster('r', 'RUNNING'),
      cluster('e2', 'FAILED'),
      cluster('e3', 'TERMINATED')
    ];
    const { shown, hidden } = visibleClusters(list, 2);
    expect(shown.map(c => c.id)).toEqual(['r', 'e1', 'e2']);
    expect(hidden).toBe(1);
  });

  it('describes progress', () => {
    const progress = {
      step: 'Waiting for workers to register',
      done: 1,
      total: 3
    };
    expect(progressText(progress)).toBe(
      'Waiting for workers to register (1 of 3)'
    );
    expect(progressFraction(progress)).toBeCloseTo(1 / 3);
    expect(progressFraction({ step: '', done: 0, total: 0 })).toBeNull();
    expect(progressText(null)).toBe('Starting…');
  });

  it('describes the spec and the detail', () => {
    expect(describeSpec(cluster('a', 'RUNNING').spec)).toBe(
      '2 workers × 1 core, 1 GiB each'
    );
    expect(
      describeDetail(
        cluster('a', 'RUNNING', { workers_alive: 2, cores: 2, cores_used: 1 })
      )
    ).toBe('2 of 2 workers up · 1 of 2 cores busy');
    expect(describeDetail(cluster('a', 'RUNNING'))).toBeNull();
  });

  it('says when an idle cluster terminates', () => {
    const now = new Date(2025, 0, 1, 13, 23).getTime();
    const at = new Date(2025, 0, 1, 14, 5).toISOString();
    expect(idleText(at, now)).toBe('terminates if idle at 14:05 (in 42 min)');
    expect(idleText(null, now)).toBeNull();
    const soon = new Date(now + 30_000).toISOString();
    expect(idleText(soon, now)).toMatch(/^terminates if idle at 13:23$/);
  });

  it('gives the reason a cluster ended', () => {
    expect(
      reasonText(
        cluster('a', 'TERMINATED', {
          state_reason: 'Idle for 1 h: terminated automatically.'
        })
      )
    ).toBe('Idle for 1 h: terminated automatically.');
    expect(reasonText(cluster('a', 'FAILED'))).toBe(
      'The cluster failed to start.'
    );
    expect(reasonText(cluster('a', 'RUNNING'))).toBeNull();
  });

  it('builds the Spark UI address from the hub host', () => {
    const path = '/services/labdeck/clusters/c-1/ui/';
    expect(hubUrl('', path)).toBe(path);
    expect(hubUrl(undefined, path)).toBe(path);
    expect(hubUrl('https://hub.example.org/', path)).toBe(
      'https://hub.example.org/services/labdeck/clusters/c-1/ui/'
    );
    expect(hubUrl('', 'http://other/ui/')).toBe('http://other/ui/');
  });

  it('words the connection', () => {
    expect(connectionText('etl', 'RUNNING')).toEqual({
      text: 'Connected: new PySpark and Scala notebooks run on etl',
      usable: true
    });
    expect(connectionText('etl', 'TERMINATED').usable).toBe(false);
    expect(connectionText('etl', null).text).toMatch(/no longer listed/);
  });
});
