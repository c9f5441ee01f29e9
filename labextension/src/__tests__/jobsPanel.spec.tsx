import { JobFollower } from '../jobs/follower';
import { JobsModel } from '../jobs/model';
import { jobsSection } from '../jobs/section';
import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { LabdeckSidebar } from '../sidebar';
import { IMe } from '../tokens';
import { FakeAPI, makeJob } from './jobs';
import { attachSidebar, byTestId, settle, type } from './utils';

function jobNode(root: ParentNode, id: string): HTMLElement {
  const node = root.querySelector<HTMLElement>(
    `[data-testid="labdeck-jobs-job"][data-job-id="${id}"]`
  );
  if (!node) {
    throw new Error(`no job ${id}`);
  }
  return node;
}

const alice: IMe = {
  name: 'alice',
  admin: false,
  groups: [],
  profiles: [
    { name: 'cpu', display_name: 'CPU' },
    { name: 'gpu', display_name: 'GPU' }
  ]
};

describe('JobFollower', () => {
  it('reads the log from where it stopped and metrics since the last', async () => {
    const api = new FakeAPI();
    api.log = 'epoch 1\n';
    api.points = [{ t: 10, source: 'log', step: 1, values: { loss: 1 } }];
    const follower = new JobFollower(api, 'j1');
    await follower.refresh();
    api.log += 'epoch 2\n';
    api.points.push({ t: 11, source: 'log', step: 2, values: { loss: 0.5 } });
    await follower.refresh();
    expect(api.logOffsets).toEqual([0, 8]);
    expect(api.sinces).toEqual([0, 1]);
    expect(follower.data?.log.text).toBe('epoch 1\nepoch 2\n');
    expect(follower.data?.points.map(p => p.step)).toEqual([1, 2]);
    follower.dispose();
  });
});

describe('Training jobs section', () => {
  let widget: LabdeckSidebar | null = null;
  let jobs: JobsModel | null = null;

  afterEach(() => {
    jobs?.dispose();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
    jobs = null;
  });

  async function show(
    api: FakeAPI,
    onOpen?: (id: string) => void,
    onDeploy?: (folder: string) => void
  ): Promise<HTMLElement> {
    const model = new LabdeckModel({ fetchMe: () => Promise.resolve(alice) });
    jobs = new JobsModel({ api });
    widget = attachSidebar(model, [jobsSection(jobs, onOpen, onDeploy)]);
    await model.refresh();
    await jobs.refresh();
    widget.update();
    await settle();
    return widget.node;
  }

  it('lists jobs with their state chip and reason', async () => {
    const api = new FakeAPI();
    api.jobs = [
      makeJob('r', 'RUNNING'),
      makeJob('f', 'FAILED', { state_reason: 'The script exited with 1.' })
    ];
    const node = await show(api);
    const section = byTestId(node, 'labdeck-section-jobs')!;
    expect(section.textContent).not.toContain('coming soon');
    const running = jobNode(node, 'r');
    const failed = jobNode(node, 'f');
    const chip = byTestId(running, 'labdeck-jobs-state')!;
    expect(chip.textContent).toBe('Running');
    expect(chip.classList).toContain('jp-mod-running');
    expect(byTestId(running, 'labdeck-jobs-stop')).not.toBeNull();
    expect(byTestId(failed, 'labdeck-jobs-stop')).toBeNull();
    expect(byTestId(failed, 'labdeck-jobs-reason')?.textContent).toBe(
      'The script exited with 1.'
    );
  });

  it('stops a running job', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING')];
    const node = await show(api);
    byTestId(jobNode(node, 'r'), 'labdeck-jobs-stop')!.click();
    await settle();
    expect(api.stopped).toEqual(['r']);
    expect(
      byTestId(jobNode(node, 'r'), 'labdeck-jobs-state')?.textContent
    ).toBe('Stopping');
  });

  it('submits the form and shows a refusal inline', async () => {
    const api = new FakeAPI();
    const node = await show(api);
    expect(byTestId(node, 'labdeck-jobs-empty')).not.toBeNull();
    const profile = byTestId(
      node,
      'labdeck-jobs-form-profile'
    ) as HTMLSelectElement;
    expect(Array.from(profile.options).map(o => o.value)).toEqual([
      'cpu',
      'gpu'
    ]);
    type(byTestId(node, 'labdeck-jobs-form-script'), '/etc/passwd');
    await settle();
    expect(byTestId(node, 'labdeck-jobs-form-problems')?.textContent).toBe(
      'The script path must be inside your home folder.'
    );
    byTestId(node, 'labdeck-jobs-form-submit')!.click();
    await settle();
    expect(api.submitted).toEqual([]);

    api.submitError = new LabdeckRequestError(
      'You already have 2 jobs running.',
      403,
      'jobs_limit'
    );
    type(byTestId(node, 'labdeck-jobs-form-script'), 'train.py');
    type(byTestId(node, 'labdeck-jobs-form-metrics'), 'loss=loss: (\\S+)');
    await settle();
    byTestId(node, 'labdeck-jobs-form-submit')!.click();
    await settle();
    expect(byTestId(node, 'labdeck-jobs-form-error')?.textContent).toBe(
      'You already have 2 jobs running.'
    );

    api.submitError = null;
    byTestId(node, 'labdeck-jobs-form-submit')!.click();
    await settle();
    expect(api.submitted).toEqual([
      {
        name: 'train',
        script: 'train.py',
        profile: 'cpu',
        max_runtime_seconds: 3600,
        metric_definitions: [{ name: 'loss', regex: 'loss: (\\S+)' }]
      }
    ]);
    expect(byTestId(node, 'labdeck-jobs-form-error')).toBeNull();
    expect(
      byTestId(jobNode(node, 'j1'), 'labdeck-jobs-state')?.textContent
    ).toBe('Pending');
  });

  it('opens a job on its log and metric charts', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING')];
    api.log = 'step 1 loss: 0.9\n';
    api.points = [
      { t: 10, source: 'log', step: 1, values: { loss: 0.9 } },
      {
        t: 10,
        source: 'system',
        step: null,
        values: { cpu_percent: 75, rss_bytes: 3 * 2 ** 20 }
      }
    ];
    const node = await show(api);
    const job = jobNode(node, 'r');
    expect(byTestId(job, 'labdeck-jobs-detail')).toBeNull();
    byTestId(job, 'labdeck-jobs-toggle')!.click();
    await settle();
    expect(byTestId(job, 'labdeck-jobs-log')?.textContent).toBe(
      'step 1 loss: 0.9\n'
    );
    expect(byTestId(job, 'labdeck-jobs-metrics')?.textContent).toContain(
      'loss'
    );
    expect(byTestId(job, 'labdeck-jobs-cpu')?.textContent).toContain('75 %');
    expect(byTestId(job, 'labdeck-jobs-memory')?.textContent).toContain(
      '3 MiB'
    );
    byTestId(job, 'labdeck-jobs-toggle')!.click();
    await settle();
    expect(byTestId(job, 'labdeck-jobs-detail')).toBeNull();
  });

  it('puts a file proposed from the file browser in the form and opens the job', async () => {
    const api = new FakeAPI();
    const opened: string[] = [];
    const node = await show(api, id => opened.push(id));
    const script = byTestId(
      node,
      'labdeck-jobs-form-script'
    ) as HTMLInputElement;
    type(byTestId(node, 'labdeck-jobs-form-name'), 'old name');
    await settle();
    jobs!.prefill('models/train.py');
    await settle();
    expect(script.value).toBe('models/train.py');
    expect(
      (byTestId(node, 'labdeck-jobs-form-name') as HTMLInputElement).value
    ).toBe('');
    // The runtime is what the user picks next.
    expect(document.activeElement).toBe(
      byTestId(node, 'labdeck-jobs-form-profile')
    );

    // The same file proposed again after an edit comes back.
    type(script, 'other.py');
    await settle();
    jobs!.prefill('models/train.py');
    await settle();
    expect(script.value).toBe('models/train.py');

    type(byTestId(node, 'labdeck-jobs-form-runtime'), '30');
    await settle();
    byTestId(node, 'labdeck-jobs-form-submit')!.click();
    await settle();
    expect(api.submitted).toEqual([
      {
        name: 'train',
        script: 'models/train.py',
        profile: 'cpu',
        max_runtime_seconds: 1800,
        metric_definitions: []
      }
    ]);
    // A job submitted opens in its tab.
    expect(opened).toEqual(['j1']);
  });

  it('opens a job of the list in its tab', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING'), makeJob('c', 'COMPLETED')];
    const opened: string[] = [];
    const node = await show(api, id => opened.push(id));
    byTestId(jobNode(node, 'c'), 'labdeck-jobs-open')!.click();
    await settle();
    expect(opened).toEqual(['c']);
  });

  it('proposes the folder of a completed job for deployment', async () => {
    const api = new FakeAPI();
    api.jobs = [
      makeJob('c', 'COMPLETED', { output_dir: '~/labdeck/jobs/c' }),
      makeJob('r', 'RUNNING'),
      makeJob('f', 'FAILED')
    ];
    const folders: string[] = [];
    const node = await show(api, undefined, folder => folders.push(folder));
    expect(byTestId(jobNode(node, 'r'), 'labdeck-jobs-deploy')).toBeNull();
    expect(byTestId(jobNode(node, 'f'), 'labdeck-jobs-deploy')).toBeNull();
    byTestId(jobNode(node, 'c'), 'labdeck-jobs-deploy')!.click();
    expect(folders).toEqual(['labdeck/jobs/c']);
  });

  it('offers no tab without a way to open one', async () => {
    const api = new FakeAPI();
    api.jobs = [makeJob('r', 'RUNNING')];
    const node = await show(api);
    expect(byTestId(jobNode(node, 'r'), 'labdeck-jobs-open')).toBeNull();
  });
});
