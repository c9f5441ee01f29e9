import { stopsAt } from '../jobs/parts';
import {
  executedNotebookPath,
  isNotebookJob,
  jobTarget,
  rerunRequest,
  scriptFromPath
} from '../jobs/spec';
import { IJob } from '../jobs/tokens';
import { makeJob } from './jobs';
import { pinClock } from './utils';

/** A job of `makeJob` with some of its spec changed. */
function withSpec(spec: Partial<IJob['spec']>, overrides: Partial<IJob> = {}) {
  const job = makeJob('j1', 'COMPLETED', overrides);
  return { ...job, spec: { ...job.spec, ...spec } };
}

describe('scriptFromPath', () => {
  it('takes scripts and notebooks, relative to the home folder', () => {
    expect(scriptFromPath('train.py')).toBe('train.py');
    expect(scriptFromPath('course/week 2/fit.ipynb')).toBe(
      'course/week 2/fit.ipynb'
    );
    expect(scriptFromPath('/train.py')).toBe('train.py');
  });

  it('refuses other files', () => {
    expect(scriptFromPath('data.csv')).toBeNull();
    expect(scriptFromPath('notes.py.txt')).toBeNull();
    expect(scriptFromPath('folder/.py')).toBeNull();
    expect(scriptFromPath('.py')).toBeNull();
    expect(scriptFromPath('')).toBeNull();
  });
});

describe('rerunRequest', () => {
  it('sends a script job again with its arguments, folder and settings', () => {
    const job = withSpec(
      {
        script: 'train.py',
        args: ['--epochs', '3'],
        parameters: {},
        profile: 'cpu',
        max_runtime_seconds: 900,
        metric_definitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
        working_dir: '/home/alice/runs',
        env: []
      },
      { name: 'fit' }
    );
    expect(rerunRequest(job)).toEqual({
      request: {
        name: 'fit',
        script: 'train.py',
        args: ['--epochs', '3'],
        profile: 'cpu',
        max_runtime_seconds: 900,
        metric_definitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
        working_dir: '/home/alice/runs'
      },
      droppedEnv: []
    });
  });

  it('sends a notebook with its parameters and never arguments', () => {
    const job = withSpec({
      script: 'fit.ipynb',
      args: [],
      parameters: { epochs: 3, lr: 0.1 }
    });
    const { request } = rerunRequest(job);
    expect(request.script).toBe('fit.ipynb');
    expect(request.parameters).toEqual({ epochs: 3, lr: 0.1 });
    expect(request).not.toHaveProperty('args');
  });

  it('sends no parameters for a script (the service refuses them)', () => {
    const { request } = rerunRequest(withSpec({ parameters: {}, args: [] }));
    expect(request).not.toHaveProperty('parameters');
    expect(request).not.toHaveProperty('args');
    expect(request).not.toHaveProperty('command');
  });

  it('sends a command job as its argv', () => {
    const job = withSpec({ script: null, command: ['python', '-c', 'pass'] });
    const { request } = rerunRequest(job);
    expect(request.command).toEqual(['python', '-c', 'pass']);
    expect(request).not.toHaveProperty('script');
    expect(jobTarget(job)).toBe('python -c pass');
  });

  it('says which environment variables it cannot send again', () => {
    const { request, droppedEnv } = rerunRequest(
      withSpec({ env: ['API_KEY', 'SEED'] })
    );
    expect(request).not.toHaveProperty('env');
    expect(droppedEnv).toEqual(['API_KEY', 'SEED']);
  });

  it('leaves the runtime limit to the service when the job had none', () => {
    const { request } = rerunRequest(withSpec({ max_runtime_seconds: null }));
    expect(request).not.toHaveProperty('max_runtime_seconds');
  });
});

describe('notebook jobs', () => {
  it('are the jobs of a .ipynb', () => {
    expect(isNotebookJob(withSpec({ script: 'fit.ipynb' }))).toBe(true);
    expect(isNotebookJob(withSpec({ script: 'train.py' }))).toBe(false);
    expect(isNotebookJob(withSpec({ script: null, command: ['ls'] }))).toBe(
      false
    );
  });

  it('leave their executed copy in the job folder', () => {
    expect(
      executedNotebookPath(
        makeJob('ab12', 'COMPLETED', { output_dir: '~/labdeck/jobs/ab12' })
      )
    ).toBe('labdeck/jobs/ab12/executed.ipynb');
    expect(executedNotebookPath(makeJob('ab12', 'COMPLETED'))).toBe(
      'labdeck/jobs/ab12/executed.ipynb'
    );
  });
});

describe('stopsAt', () => {
  // 10:00 local, so the times below fall on the same day.
  beforeEach(() => pinClock(new Date(2026, 10, 26, 10, 0, 0)));
  afterEach(() => jest.useRealTimers());

  const at = (hour: number, minute = 0): string =>
    new Date(2026, 10, 26, hour, minute).toISOString();

  it('says when the daily budget stops a running job', () => {
    const job = makeJob('j1', 'RUNNING', {
      deadline: at(14),
      deadline_reason: 'daily_budget'
    });
    expect(stopsAt(job, Date.now())).toBe('stops at 14:00 (daily budget)');
  });

  it('says the earlier of the budget and the runtime limit', () => {
    const job = makeJob('j1', 'RUNNING', {
      deadline: at(14),
      deadline_reason: 'daily_budget',
      runtime_deadline: at(11, 30)
    });
    expect(stopsAt(job, Date.now())).toBe('stops at 11:30 (runtime limit)');
  });

  it('says nothing for a job without a deadline or that has ended', () => {
    expect(stopsAt(makeJob('j1', 'RUNNING'), Date.now())).toBeNull();
    const ended = makeJob('j1', 'STOPPED', { deadline: at(14) });
    expect(stopsAt(ended, Date.now())).toBeNull();
  });
});
