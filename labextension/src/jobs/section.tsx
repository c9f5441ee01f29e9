import * as React from 'react';

import { ISidebarSection, SECTION_RANKS } from '../tokens';
import { JobsModel } from './model';
import { JobsPanel } from './panel';

/** The Training jobs section: the panel over a polled {@link JobsModel}. */
export function jobsSection(model: JobsModel): ISidebarSection {
  return {
    id: 'jobs',
    title: 'Training jobs',
    rank: SECTION_RANKS.jobs,
    render: me => <JobsPanel model={model} me={me} />,
    refresh: () => model.refresh()
  };
}
