import * as React from 'react';

import { ISidebarSection, SECTION_RANKS } from '../tokens';
import { IDeploymentRef } from './api';
import { DeploymentsModel } from './model';
import { DeploymentsPanel } from './panel';

/**
 * The Deployments section: the panel over a polled
 * {@link DeploymentsModel}; `onOpen` opens a deployment in its own tab.
 */
export function deploymentsSection(
  model: DeploymentsModel,
  onOpen?: (ref: IDeploymentRef) => void
): ISidebarSection {
  return {
    id: 'deployments',
    title: 'Deployments',
    rank: SECTION_RANKS.deployments,
    render: me => <DeploymentsPanel model={model} me={me} onOpen={onOpen} />,
    refresh: () => model.refresh()
  };
}
