import { IJob, JobState } from '../jobs/tokens';

/**
 * A job as `GET jobs` sends it: `train.py` on cpu for an hour, made now;
 * `overrides` change what a test needs.
 */
export function makeJob(
  id: string,
  state: JobState,
  overrides: Partial<IJob> = {}
): IJob {
  return {
    id,
    name: `job-${id}`,
    user: 'alice',
    state,
    state_reason: null,
    spec: {
      script: 'train.py',
      command: null,
      args: [],
      parameters: {},
      profile: 'cpu',
      max_runtime_seconds: 3600,
      metric_definitions: [],
      working_dir: null,
      env: {}
    },
    created: new Date().toISOString(),
    started: null,
    ended: null,
    runtime_deadline: null,
    output_dir: null,
    ...overrides
  };
}
