import { Widget } from '@lumino/widgets';

import { JobsModel } from '../jobs/model';
import { IJob } from '../jobs/tokens';
import { createJobView, JobViewWidget } from '../jobs/view';
import { LabdeckRequestError } from '../request';
import { FakeAPI, makeJob } from './jobs';
import { byTestId, pinClock, settle } from './utils';

describe('Job view', () => {
  let jobs: JobsModel | null = null;
  let widget: Widget | null = null;
  let opened: string[] = [];
  let files: string[] = [];
  let deployed: string[] = [];

  // 10:00 local: the deadlines below fall on the same day.
  beforeEach(() => {
    pinClock(new Date(2026, 10, 26, 10, 0, 0));
    opened = [];
    files = [];
    deployed = [];
  });

  afterEach(() => {
    jest.useRealTimers();
    widget?.dispose();
    jobs?.dispose();
    widget = null;
    jobs = null;
  });

  const at = (hour: number, minute = 0): string =>
    new Date(2026, 10, 26, hour, minute).toISOString();

  /** The tab of job `id` over `api`, attached to the page. */
  async function show(api: FakeAPI, id: string): Promise<HTMLElement> {
    jobs = new JobsModel({ api });
    await jobs.refresh();
    widget = new JobViewWidget({
      model: jobs,
      jobId: id,
      onOpen: job => opened.push(job),
      onOpenFile: path => files.push(path),
      onDeploy: folder => deployed.push(folder)
    });
    Widget.attach(widget, document.body);
    await settle();
    return widget.node;
  }

  function notebook(id: string, overrides: Partial<IJob> = {}): IJob {
    const job = makeJob(id, 'COMPLETED', {
      started: at(9),
      ended: at(9, 30),
      output_dir: `~/labdeck/jobs/${id}`,
      ...overrides
    });
    job.spec = { ...job.spec, script: 'fit.ipynb', parameters: { lr: 0.1 } };
    return job;
  }

  it('shows the state, when it stops, its GPUs, log and charts, and follows the job', async () => {
    const api = new FakeAPI();
    api.jobs = [
      makeJob('r', 'RUNNING', {
        name: 'fit',
        started: at(9, 55),
        deadline: at(14),
        deadline_reason: 'daily_budget',
        gpus: ['0', '1']
      })
    ];
    api.log = 'epoch 1 loss=0.5\n';
    api.points = [
      { t: 10, source: 'script', step: 1, values: { loss: 0.5 } },
      {
        t: 10,
        source: 'system',
        step: null,
        values: {
          cpu_percent: 75,
          rss_bytes: 3 * 2 ** 20,
          gpu0_utilization_percent: 90,
          gpu0_memory_bytes: 512 * 2 ** 20
        }
      }
    ];
    const node = await show(api, 'r');
    const view = byTestId(node, 'labdeck-job-view')!;
    expect(view.dataset.state).toBe('RUNNING');
    expect(view.querySelector('h2')?.textContent).toBe('fit');
    expect(byTestId(view, 'labdeck-jobs-state')?.textContent).toBe('Running');
    expect(byTestId(view, 'labdeck-job-view-deadline')?.textContent).toBe(
      ' · stops at 14:00 (daily budget)'
    );
    expect(byTestId(view, 'labdeck-job-view-gpus')?.textContent).toBe(
      ' · GPU 0, 1'
    );
    expect(byTestId(view, 'labdeck-jobs-log')?.textContent).toBe(
      'epoch 1 loss=0.5\n'
    );
    expect(byTestId(view, 'labdeck-jobs-metrics')?.textContent).toContain(
      'loss'
    );
    expect(byTestId(view, 'labdeck-jobs-cpu')?.textContent).toContain('75 %');
    expect(byTestId(view, 'labdeck-jobs-memory')?.textContent).toContain(
      '3 MiB'
    );
    expect(byTestId(view, 'labdeck-jobs-gpu')?.textContent).toContain('GPU 0');
    expect(byTestId(view, 'labdeck-jobs-gpu')?.textContent).toContain('90 %');
    expect(byTestId(view, 'labdeck-jobs-gpu-memory')?.textContent).toContain(
      '512 MiB'
    );
    expect(byTestId(view, 'labdeck-jobs-stop')).not.toBeNull();

    // The next poll of the list brings the outcome.
    api.jobs[0].state = 'FAILED';
    api.jobs[0].state_reason = 'The script exited with 1.';
    await jobs!.refresh();
    await settle();
    expect(view.dataset.state).toBe('FAILED');
    expect(byTestId(view, 'labdeck-jobs-reason')?.textContent).toBe(
      'The script exited with 1.'
    );
    expect(byTestId(view, 'labdeck-jobs-stop')).toBeNull();
    expect(byTestId(view, 'labdeck-job-view-deadline')).toBeNull();
  });

  it('stops the job', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING')];
    api.points = [
      {
        t: 10,
        source: 'system',
        step: null,
        values: { cpu_percent: 5, rss_bytes: 2 ** 20 }
      }
    ];
    const node = await show(api, 'r');
    // No GPU charts for a job without GPUs.
    expect(byTestId(node, 'labdeck-jobs-cpu')?.textContent).toContain('5 %');
    expect(byTestId(node, 'labdeck-jobs-gpu')).toBeNull();
    expect(byTestId(node, 'labdeck-jobs-gpu-memory')).toBeNull();
    byTestId(node, 'labdeck-jobs-stop')!.click();
    await settle();
    expect(api.stopped).toEqual(['r']);
    expect(byTestId(node, 'labdeck-jobs-state')?.textContent).toBe('Stopping');
  });

  it('runs the job again with the same settings and opens the new one', async () => {
    const api = new FakeAPI();
    const job = makeJob('r', 'COMPLETED', { name: 'fit' });
    job.spec = {
      ...job.spec,
      args: ['--epochs', '3'],
      max_runtime_seconds: 600,
      metric_definitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
      working_dir: '/home/alice',
      env: ['API_KEY']
    };
    api.jobs = [job];
    const node = await show(api, 'r');
    expect(byTestId(node, 'labdeck-job-view-env')?.textContent).toContain(
      'API_KEY'
    );
    byTestId(node, 'labdeck-job-view-rerun')!.click();
    await settle();
    expect(api.submitted).toEqual([
      {
        name: 'fit',
        script: 'train.py',
        args: ['--epochs', '3'],
        profile: 'cpu',
        max_runtime_seconds: 600,
        metric_definitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
        working_dir: '/home/alice'
      }
    ]);
    expect(opened).toEqual(['j1']);
  });

  it('shows why running again was refused', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'COMPLETED')];
    api.submitError = new LabdeckRequestError(
      'You already have 2 jobs running.',
      403,
      'jobs_limit'
    );
    const node = await show(api, 'r');
    byTestId(node, 'labdeck-job-view-rerun')!.click();
    await settle();
    expect(byTestId(node, 'labdeck-job-view-rerun-error')?.textContent).toBe(
      'You already have 2 jobs running.'
    );
    expect(opened).toEqual([]);
  });

  it('opens the executed copy of a notebook job, and only of one', async () => {
    const api = new FakeAPI();
    api.jobs = [
      notebook('nb'),
      notebook('queued', { state: 'PENDING', started: null, ended: null }),
      makeJob('py', 'COMPLETED', { started: at(9) })
    ];
    let node = await show(api, 'nb');
    expect(byTestId(node, 'labdeck-job-view-env')).toBeNull();
    byTestId(node, 'labdeck-job-view-executed')!.click();
    expect(files).toEqual(['labdeck/jobs/nb/executed.ipynb']);
    widget!.dispose();
    jobs!.dispose();

    node = await show(api, 'py');
    expect(byTestId(node, 'labdeck-job-view-rerun')).not.toBeNull();
    expect(byTestId(node, 'labdeck-job-view-executed')).toBeNull();
    widget!.dispose();
    jobs!.dispose();

    // Not started yet: there is no executed copy.
    node = await show(api, 'queued');
    expect(byTestId(node, 'labdeck-job-view-executed')).toBeNull();
  });

  it('deploys the folder of a completed job, and only of one', async () => {
    const api = new FakeAPI();
    api.jobs = [
      makeJob('done', 'COMPLETED', { output_dir: '~/labdeck/jobs/done/' }),
      makeJob('r', 'RUNNING')
    ];
    let node = await show(api, 'done');
    byTestId(node, 'labdeck-jobs-deploy')!.click();
    expect(deployed).toEqual(['labdeck/jobs/done']);
    widget!.dispose();
    jobs!.dispose();

    node = await show(api, 'r');
    expect(byTestId(node, 'labdeck-jobs-deploy')).toBeNull();
  });

  it('says when the job is not in the list any more', async () => {
    const api = new FakeAPI();
    const node = await show(api, 'j9');
    expect(byTestId(node, 'labdeck-job-view-gone')?.textContent).toBe(
      'Job j9 is not in your list any more: it was removed.'
    );
  });

  it('is a closable tab named after the job', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING', { name: 'fit' })];
    jobs = new JobsModel({ api });
    const tab = createJobView({
      model: jobs,
      jobId: 'r',
      onOpen: () => undefined,
      onOpenFile: () => undefined
    });
    widget = tab;
    expect(tab.id).toBe('labdeck-job-r');
    expect(tab.title.closable).toBe(true);
    // Named by its id until the list arrives.
    expect(tab.title.label).toBe('r');
    await jobs.refresh();
    expect(tab.title.label).toBe('fit');
    expect(tab.content.jobId).toBe('r');
  });
});
