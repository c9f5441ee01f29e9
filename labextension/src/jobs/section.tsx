import * as React from 'react';

import { ISidebarSection, SECTION_RANKS } from '../tokens';
import { JobsModel } from './model';
import { JobsPanel } from './panel';

/**
 * The Training jobs section: the panel over a polled {@link JobsModel};
 * `onOpen` opens a job in its own tab, `onDeploy` proposes a completed
 * job's folder for deployment.
 */
export function jobsSection(
  model: JobsModel,
  onOpen?: (id: string) => void,
  onDeploy?: (folder: string) => void
): ISidebarSection {
  return {
    id: 'jobs',
    title: 'Training jobs',
    rank: SECTION_RANKS.jobs,
    render: me => (
      <JobsPanel model={model} me={me} onOpen={onOpen} onDeploy={onDeploy} />
    ),
    refresh: () => model.refresh()
  };
}
