import { Widget } from '@lumino/widgets';

import { JobsModel } from '../jobs/model';
import { jobsSection } from '../jobs/section';
import { jobTarget } from '../jobs/spec';
import { IJob } from '../jobs/tokens';
import { JobViewWidget } from '../jobs/view';
import { LabdeckModel } from '../model';
import { LabdeckSidebar } from '../sidebar';
import { IMe } from '../tokens';
import { FakeAPI, makeJob } from './jobs';
import { attachSidebar, byTestId, settle } from './utils';

const alice: IMe = {
  name: 'alice',
  admin: false,
  groups: [],
  profiles: [{ name: 'cpu', display_name: 'CPU' }]
};

/** A Livy batch as `GET jobs` sends it: spark-submit run as a job. */
function batchJob(id: string): IJob {
  const job = makeJob(id, 'RUNNING', {
    name: 'etl',
    type: 'spark-batch',
    spark_batch: { cluster_id: 'c-1', batch_id: 7, file: 'etl/daily.py' }
  });
  job.spec = {
    ...job.spec,
    script: null,
    command: ['/venv/spark-submit', '--master', 'spark://127.0.0.1:1', 'x.py']
  };
  return job;
}

function jobNode(root: ParentNode, id: string): HTMLElement {
  return root.querySelector<HTMLElement>(
    `[data-testid="labdeck-jobs-job"][data-job-id="${id}"]`
  )!;
}

describe('Spark batches among training jobs', () => {
  let jobs: JobsModel | null = null;
  let sidebar: LabdeckSidebar | null = null;
  let view: Widget | null = null;

  afterEach(() => {
    view?.dispose();
    sidebar?.model.dispose();
    sidebar?.dispose();
    jobs?.dispose();
    view = sidebar = jobs = null;
  });

  it('labels a batch "Spark batch" in the list, with its file, and no other job', async () => {
    const api = new FakeAPI();
    api.jobs = [batchJob('b'), makeJob('j', 'RUNNING')];
    const model = new LabdeckModel({ fetchMe: () => Promise.resolve(alice) });
    jobs = new JobsModel({ api });
    sidebar = attachSidebar(model, [jobsSection(jobs)]);
    await model.refresh();
    await jobs.refresh();
    sidebar.update();
    await settle();
    const batch = jobNode(sidebar.node, 'b');
    const label = byTestId(batch, 'labdeck-jobs-type');
    expect(label?.textContent).toBe('Spark batch');
    expect(label?.title).toBe('Livy batch 7 on cluster c-1');
    expect(batch.textContent).toContain('etl/daily.py');
    expect(batch.textContent).not.toContain('spark-submit');
    expect(
      byTestId(jobNode(sidebar.node, 'j'), 'labdeck-jobs-type')
    ).toBeNull();
  });

  it('labels it in its tab, where it is not run again as a plain job', async () => {
    const api = new FakeAPI();
    api.jobs = [batchJob('b')];
    jobs = new JobsModel({ api });
    await jobs.refresh();
    view = new JobViewWidget({
      model: jobs,
      jobId: 'b',
      onOpen: () => undefined,
      onOpenFile: () => undefined
    });
    Widget.attach(view, document.body);
    await settle();
    const node = byTestId(view.node, 'labdeck-job-view')!;
    expect(byTestId(node, 'labdeck-jobs-type')?.textContent).toBe(
      'Spark batch'
    );
    expect(byTestId(node, 'labdeck-job-view-rerun')).toBeNull();
    expect(byTestId(node, 'labdeck-jobs-stop')).not.toBeNull();
  });

  it('shows what a job runs: a batch its file, others their script', () => {
    expect(jobTarget(batchJob('b'))).toBe('etl/daily.py');
    expect(jobTarget(makeJob('j', 'RUNNING'))).toBe('train.py');
  });
});
