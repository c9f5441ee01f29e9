import { ClusterState, ICluster } from '../spark/tokens';

/**
 * A cluster as `GET clusters` sends it: one 1-core worker of 1 GiB, named
 * `spark-<id>`, made now; `overrides` and `spec` change what a test needs.
 */
export function makeCluster(
  id: string,
  state: ClusterState,
  overrides: Partial<ICluster> = {},
  spec: Partial<ICluster['spec']> = {}
): ICluster {
  return {
    id,
    name: `spark-${id}`,
    user: 'alice',
    state,
    state_reason: null,
    progress: { step: 'Running', done: 2, total: 2 },
    spec: {
      name: `spark-${id}`,
      workers: 1,
      worker_cores: 1,
      worker_memory: '1024m',
      idle_timeout_seconds: 3600,
      ...spec
    },
    created: new Date().toISOString(),
    started: null,
    ended: null,
    idle_terminates_at: null,
    livy_url: `/services/labdeck/api/v1/clusters/${id}/livy`,
    spark_ui_url: `/services/labdeck/clusters/${id}/ui/`,
    ...overrides
  };
}
