import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import * as React from 'react';

import { ILabdeckSidebarSections, PLUGIN_IDS, SECTION_RANKS } from './tokens';

/**
 * A plugin that adds a sidebar section announcing a capability not built
 * yet, so users see what the lab is going to offer. The real panel's
 * plugin replaces it.
 */
function comingSoonPlugin(options: {
  plugin: string;
  description: string;
  id: string;
  title: string;
  rank: number;
  text: string;
}): JupyterFrontEndPlugin<void> {
  const { plugin, description, id, title, rank, text } = options;
  return {
    id: plugin,
    description,
    autoStart: true,
    requires: [ILabdeckSidebarSections],
    activate: (_app, sections: ILabdeckSidebarSections): void => {
      sections.add({
        id,
        title,
        rank,
        render: () => <p className="jp-labdeck-coming-soon">{text}</p>
      });
    }
  };
}

/** The Deployments section, announced. */
export const deploymentsPlugin = comingSoonPlugin({
  plugin: PLUGIN_IDS.deployments,
  description: 'The Deployments section of the labdeck sidebar (coming soon).',
  id: 'deployments',
  title: 'Deployments',
  rank: SECTION_RANKS.deployments,
  text: 'Serve your models behind an endpoint and watch their traffic — coming soon.'
});
