import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { LabdeckSidebar } from '../sidebar';
import { newSparkNotebook } from '../spark/actions';
import { ISparkAPI } from '../spark/api';
import { SparkModel } from '../spark/model';
import { ISparkPanelProps } from '../spark/panel';
import { sparkSection } from '../spark/section';
import {
  ICluster,
  ICreateClusterRequest,
  ISparkConnection
} from '../spark/tokens';
import { IMe } from '../tokens';
import { attachSidebar, byTestId, pinClock, settle, type } from './utils';
import { makeCluster } from './clusters';

const GIB = 2 ** 30;

function allByTestId(root: ParentNode, id: string): HTMLElement[] {
  return Array.from(root.querySelectorAll(`[data-testid="${id}"]`));
}

function clusterNode(root: ParentNode, id: string): HTMLElement {
  const node = root.querySelector<HTMLElement>(
    `[data-testid="labdeck-spark-cluster"][data-cluster-id="${id}"]`
  );
  if (!node) {
    throw new Error(`no cluster ${id}`);
  }
  return node;
}

const cluster = makeCluster;

/** An in-memory service: the API the model calls. */
class FakeAPI implements ISparkAPI {
  clusters: ICluster[] = [];
  connected: { id: string; name: string } | null = null;
  createError: LabdeckRequestError | null = null;
  created: ICreateClusterRequest[] = [];
  terminated: string[] = [];
  listCalls = 0;
  getCalls: string[] = [];

  async list(): Promise<ICluster[]> {
    this.listCalls += 1;
    return this.clusters.map(c => ({ ...c }));
  }
  async get(id: string): Promise<ICluster> {
    this.getCalls.push(id);
    const found = this.clusters.find(c => c.id === id);
    if (!found) {
      throw new LabdeckRequestError(`There is no cluster ${id}.`, 404, 'x');
    }
    return found.state === 'RUNNING'
      ? { ...found, workers_alive: 1, cores: 1, cores_used: 0, memory_mb: 1024 }
      : { ...found };
  }
  async create(request: ICreateClusterRequest): Promise<ICluster> {
    if (this.createError) {
      throw this.createError;
    }
    this.created.push(request);
    const made = cluster(`n${this.created.length}`, 'STARTING', {
      name: request.name,
      progress: { step: 'Queued', done: 0, total: request.workers + 1 }
    });
    this.clusters.unshift(made);
    return made;
  }
  async terminate(id: string): Promise<void> {
    this.terminated.push(id);
    this.clusters = this.clusters.map(c =>
      c.id === id
        ? {
            ...c,
            state: 'TERMINATED',
            state_reason: 'Terminated by its owner.'
          }
        : c
    );
  }
  async connection(): Promise<ISparkConnection> {
    return { cluster: this.connected, config_path: '/home/x/config.json' };
  }
  async connect(clusterId: string): Promise<ISparkConnection> {
    const found = this.clusters.find(c => c.id === clusterId)!;
    if (found.state !== 'RUNNING') {
      throw new LabdeckRequestError(
        `Cluster ${found.name} is ${found.state.toLowerCase()}: connect when it runs.`,
        409,
        'conflict'
      );
    }
    this.connected = { id: found.id, name: found.name };
    return {
      cluster: this.connected,
      config_path: '/home/x/config.json',
      livy_url: found.livy_url,
      kernel: 'pysparkkernel'
    };
  }
}

/** `me` with the default Spark limits. */
function alice(): IMe {
  return {
    name: 'alice',
    admin: false,
    groups: [],
    quota: {
      storage_bytes: null,
      spark: { clusters: 2, workers: 4, cores: 4, memory_bytes: 8 * GIB }
    }
  } as IMe;
}

describe('Spark clusters section', () => {
  let widget: LabdeckSidebar | null = null;
  let spark: SparkModel | null = null;

  afterEach(() => {
    jest.useRealTimers();
    spark?.dispose();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
    spark = null;
  });

  async function show(
    api: FakeAPI,
    options: Omit<ISparkPanelProps, 'model' | 'me'> = {},
    me: IMe = alice()
  ): Promise<HTMLElement> {
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me)
    });
    spark = new SparkModel({ api });
    widget = attachSidebar(model, [
      sparkSection(spark, { hubHost: 'https://hub.example.org', ...options })
    ]);
    await model.refresh();
    await spark.refresh();
    await spark.refreshConnection();
    widget.update();
    await settle();
    return widget.node;
  }

  it('replaces the placeholder inside the Spark section', async () => {
    const node = await show(new FakeAPI());
    const section = byTestId(node, 'labdeck-section-spark')!;
    expect(byTestId(section, 'labdeck-spark-panel')).not.toBeNull();
    expect(section.textContent).not.toContain('coming soon');
    expect(byTestId(section, 'labdeck-spark-empty')).not.toBeNull();
    expect(byTestId(section, 'labdeck-spark-limits')?.textContent).toBe(
      'Left: 2 of 2 clusters · 4 of 4 workers · 4 of 4 cores · 8 GiB of 8 GiB memory'
    );
  });

  it('shows why the clusters could not be listed', async () => {
    const api = new FakeAPI();
    api.list = () =>
      Promise.reject(
        new LabdeckRequestError('The Spark service is down.', 502, 'x')
      );
    const node = await show(api);
    const error = byTestId(node, 'labdeck-spark-error');
    expect(error?.textContent).toBe('The Spark service is down.');
    expect(error?.getAttribute('role')).toBe('alert');
    expect(byTestId(node, 'labdeck-spark-empty')).toBeNull();
  });

  it('shows each cluster with its state, progress, idle time and reason', async () => {
    pinClock(new Date(2026, 10, 26, 10, 0, 0));
    const api = new FakeAPI();
    api.clusters = [
      cluster('s', 'STARTING', {
        progress: { step: 'Waiting for workers to register', done: 1, total: 3 }
      }),
      cluster('r', 'RUNNING', {
        idle_terminates_at: new Date(Date.now() + 3600_000).toISOString()
      }),
      cluster('f', 'FAILED', { state_reason: 'The master did not start.' }),
      cluster('t', 'TERMINATED', {
        state_reason: 'Idle for 1 h: terminated automatically.'
      })
    ];
    const node = await show(api);
    const items = allByTestId(node, 'labdeck-spark-cluster');
    expect(items.map(i => i.dataset.state)).toEqual([
      'STARTING',
      'RUNNING',
      'FAILED',
      'TERMINATED'
    ]);

    const starting = clusterNode(node, 's');
    const progress = byTestId(starting, 'labdeck-spark-progress')!;
    expect(progress.textContent).toContain(
      'Waiting for workers to register (1 of 3)'
    );
    expect(
      progress
        .querySelector('[role="progressbar"]')
        ?.getAttribute('aria-valuenow')
    ).toBe('33');
    expect(byTestId(starting, 'labdeck-spark-connect')).toBeNull();
    expect(byTestId(starting, 'labdeck-spark-terminate')).not.toBeNull();

    const running = clusterNode(node, 'r');
    expect(byTestId(running, 'labdeck-spark-idle')?.textContent).toBe(
      'terminates if idle at 11:00 (in 1 h)'
    );
    expect(running.textContent).toContain('1 of 1 workers up');
    const ui = byTestId(running, 'labdeck-spark-ui') as HTMLAnchorElement;
    expect(ui.getAttribute('href')).toBe(
      'https://hub.example.org/services/labdeck/clusters/r/ui/'
    );
    expect(ui.target).toBe('_blank');
    expect(ui.rel).toContain('noopener');

    expect(
      byTestId(clusterNode(node, 'f'), 'labdeck-spark-reason')?.textContent
    ).toBe('The master did not start.');
    expect(
      byTestId(clusterNode(node, 't'), 'labdeck-spark-reason')?.textContent
    ).toBe('Idle for 1 h: terminated automatically.');
    expect(byTestId(clusterNode(node, 't'), 'labdeck-spark-terminate')).toBe(
      null
    );
    // 2 live clusters of 1 worker, 1 core and 1 GiB each.
    expect(byTestId(node, 'labdeck-spark-limits')?.textContent).toBe(
      'Left: 0 of 2 clusters · 2 of 4 workers · 2 of 4 cores · 6 GiB of 8 GiB memory'
    );
    expect(
      byTestId(node, 'labdeck-spark-create-problems')?.textContent
    ).toMatch(/terminate one first/);
    expect(
      (byTestId(node, 'labdeck-spark-create-submit') as HTMLButtonElement)
        .disabled
    ).toBe(true);
  });

  it('creates a cluster from the form and keeps impossible values out', async () => {
    const api = new FakeAPI();
    const node = await show(api);
    const name = byTestId(
      node,
      'labdeck-spark-create-name'
    ) as HTMLInputElement;
    expect(name.value).toBe('spark-1');
    const workers = byTestId(node, 'labdeck-spark-create-workers')!;
    const cores = byTestId(node, 'labdeck-spark-create-cores')!;
    const memory = byTestId(
      node,
      'labdeck-spark-create-memory'
    ) as HTMLSelectElement;
    expect(workers.getAttribute('max')).toBe('4');

    type(workers, '4');
    await settle();
    expect(cores.getAttribute('max')).toBe('1');
    const disabled = Array.from(memory.options)
      .filter(o => o.disabled)
      .map(o => o.value);
    expect(disabled).toContain('4g');
    expect(disabled).not.toContain('2g');

    type(memory, '4g');
    await settle();
    const submit = byTestId(
      node,
      'labdeck-spark-create-submit'
    ) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    expect(byTestId(node, 'labdeck-spark-create-problems')?.textContent).toBe(
      'This cluster needs 16 GiB of memory; 8 GiB is left.'
    );

    type(name, 'etl');
    type(workers, '2');
    type(memory, '2g');
    type(byTestId(node, 'labdeck-spark-create-idle'), '15');
    await settle();
    expect(submit.disabled).toBe(false);
    submit.click();
    await settle();
    expect(api.created).toEqual([
      {
        name: 'etl',
        workers: 2,
        worker_cores: 1,
        worker_memory: '2g',
        idle_timeout_seconds: 900
      }
    ]);
    const item = clusterNode(node, 'n1');
    expect(item.dataset.state).toBe('STARTING');
    expect(byTestId(item, 'labdeck-spark-progress')?.textContent).toContain(
      'Queued (0 of 3)'
    );
    // A fresh name for the next one.
    expect(
      (byTestId(node, 'labdeck-spark-create-name') as HTMLInputElement).value
    ).toBe('spark-1');
  });

  it("shows the server's message when it refuses", async () => {
    const api = new FakeAPI();
    api.createError = new LabdeckRequestError(
      'Not started: this cluster needs 1 clusters and you have 2 of your 2 in use.',
      403,
      'spark_limit'
    );
    const node = await show(api);
    (
      byTestId(node, 'labdeck-spark-create-submit') as HTMLButtonElement
    ).click();
    await settle();
    expect(byTestId(node, 'labdeck-spark-create-error')?.textContent).toBe(
      'Not started: this cluster needs 1 clusters and you have 2 of your 2 in use.'
    );
  });

  it('connects, marks the cluster and opens PySpark and Scala notebooks', async () => {
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'RUNNING'), cluster('b', 'RUNNING')];
    const onNewNotebook = jest.fn(() => Promise.resolve());
    const node = await show(api, { onNewNotebook });
    expect(byTestId(node, 'labdeck-spark-connected')).toBeNull();

    byTestId(clusterNode(node, 'b'), 'labdeck-spark-connect')!.click();
    await settle();
    const banner = byTestId(node, 'labdeck-spark-connected')!;
    expect(banner.textContent).toContain(
      'Connected: new PySpark and Scala notebooks run on spark-b'
    );
    expect(clusterNode(node, 'b').dataset.connected).toBe('true');
    expect(clusterNode(node, 'a').dataset.connected).toBe('false');

    byTestId(node, 'labdeck-spark-new-notebook-pysparkkernel')!.click();
    byTestId(node, 'labdeck-spark-new-notebook-sparkkernel')!.click();
    expect(onNewNotebook.mock.calls).toEqual([
      ['pysparkkernel'],
      ['sparkkernel']
    ]);
  });

  it('marks a connection to a cluster that has gone as stale', async () => {
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'TERMINATED')];
    api.connected = { id: 'a', name: 'spark-a' };
    const node = await show(api, { onNewNotebook: jest.fn() });
    const banner = byTestId(node, 'labdeck-spark-connected')!;
    expect(banner.textContent).toContain('which is terminated');
    expect(
      byTestId(node, 'labdeck-spark-new-notebook-pysparkkernel')
    ).toBeNull();
  });

  it('terminates after confirmation only', async () => {
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'RUNNING')];
    const answers = [false, true];
    const confirmTerminate = jest.fn(() => Promise.resolve(answers.shift()!));
    const node = await show(api, { confirmTerminate });

    byTestId(clusterNode(node, 'a'), 'labdeck-spark-terminate')!.click();
    await settle();
    expect(api.terminated).toEqual([]);

    byTestId(clusterNode(node, 'a'), 'labdeck-spark-terminate')!.click();
    await settle();
    expect(confirmTerminate).toHaveBeenCalledTimes(2);
    expect(api.terminated).toEqual(['a']);
    const item = clusterNode(node, 'a');
    expect(item.dataset.state).toBe('TERMINATED');
    expect(byTestId(item, 'labdeck-spark-reason')?.textContent).toBe(
      'Terminated by its owner.'
    );
  });

  it('shows an action error under the cluster', async () => {
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'RUNNING')];
    api.connect = () =>
      Promise.reject(
        new LabdeckRequestError('There is no cluster a.', 404, 'not_found')
      );
    const node = await show(api);
    byTestId(clusterNode(node, 'a'), 'labdeck-spark-connect')!.click();
    await settle();
    expect(
      byTestId(clusterNode(node, 'a'), 'labdeck-spark-action-error')
        ?.textContent
    ).toBe('There is no cluster a.');
  });
});

describe('SparkModel polling', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('polls every 1.5 s while a cluster starts, then every 30 s', async () => {
    jest.useFakeTimers();
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'STARTING')];
    const model = new SparkModel({ api });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(api.listCalls).toBe(1);
    await jest.advanceTimersByTimeAsync(1500);
    expect(api.listCalls).toBe(2);

    api.clusters = [cluster('a', 'RUNNING')];
    await jest.advanceTimersByTimeAsync(1500);
    expect(api.listCalls).toBe(3);
    expect(api.getCalls).toEqual(['a']);
    expect(model.clusters?.[0].workers_alive).toBe(1);

    await jest.advanceTimersByTimeAsync(29_000);
    expect(api.listCalls).toBe(3);
    await jest.advanceTimersByTimeAsync(1000);
    expect(api.listCalls).toBe(4);
    model.dispose();
  });

  it('polls fast at once after a cluster is created', async () => {
    jest.useFakeTimers();
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'RUNNING')];
    const model = new SparkModel({ api });
    model.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(api.listCalls).toBe(1);

    await model.create({
      name: 'etl',
      workers: 1,
      worker_cores: 1,
      worker_memory: '1g',
      idle_timeout_seconds: 600
    });
    expect(model.clusters?.map(c => c.state)).toEqual(['STARTING', 'RUNNING']);
    await jest.advanceTimersByTimeAsync(1500);
    expect(api.listCalls).toBe(2);
    await jest.advanceTimersByTimeAsync(1500);
    expect(api.listCalls).toBe(3);
    model.dispose();
  });

  it('reads the connection once when started', async () => {
    const api = new FakeAPI();
    api.connected = { id: 'a', name: 'spark-a' };
    const connection = jest.spyOn(api, 'connection');
    const model = new SparkModel({ api });
    model.start();
    model.start();
    await model.refresh();
    expect(connection).toHaveBeenCalledTimes(1);
    expect(model.connection?.cluster?.id).toBe('a');
    model.dispose();
  });

  it('keeps the last list and the error when the service fails', async () => {
    const api = new FakeAPI();
    api.clusters = [cluster('a', 'RUNNING')];
    const model = new SparkModel({ api });
    await model.refresh();
    api.list = () =>
      Promise.reject(new LabdeckRequestError('Service down.', 502, 'x'));
    await model.refresh();
    expect(model.error?.message).toBe('Service down.');
    expect(model.clusters?.map(c => c.id)).toEqual(['a']);
    model.dispose();
  });
});

describe('newSparkNotebook', () => {
  it('uses notebook:create-new with the PySpark kernel by default', async () => {
    const execute = jest.fn(() => Promise.resolve(undefined));
    await newSparkNotebook({ hasCommand: () => true, execute });
    expect(execute).toHaveBeenCalledWith('notebook:create-new', {
      cwd: '',
      kernelName: 'pysparkkernel'
    });
  });

  it('opens the Scala kernel when asked', async () => {
    const execute = jest.fn(() => Promise.resolve(undefined));
    await newSparkNotebook({ hasCommand: () => true, execute }, 'sparkkernel');
    expect(execute).toHaveBeenCalledWith('notebook:create-new', {
      cwd: '',
      kernelName: 'sparkkernel'
    });
  });

  it('falls back to the document manager', async () => {
    const execute = jest.fn((id: string) =>
      Promise.resolve(
        id === 'docmanager:new-untitled' ? { path: 'Untitled.ipynb' } : null
      )
    );
    await newSparkNotebook({ hasCommand: () => false, execute });
    expect(execute.mock.calls).toEqual([
      ['docmanager:new-untitled', { path: '', type: 'notebook' }],
      [
        'docmanager:open',
        {
          path: 'Untitled.ipynb',
          factory: 'Notebook',
          kernel: { name: 'pysparkkernel' }
        }
      ]
    ]);
  });
});
