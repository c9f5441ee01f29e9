import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { JobsModel } from './model';
import { jobsSection } from './section';

/**
 * Adds the Training jobs section to the labdeck sidebar: submit scripts
 * that run without the browser, stop them, follow their logs and metrics.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.jobs,
  description:
    'The Training jobs section of the labdeck sidebar: submit and stop jobs, follow their logs and metrics.',
  autoStart: true,
  requires: [ILabdeckSidebarSections],
  activate: (app: JupyterFrontEnd, sections: ILabdeckSidebarSections): void => {
    // Lives as long as the page, like the sidebar.
    const model = new JobsModel();
    sections.add(jobsSection(model));
    // Never await in activate: start polling once the lab is restored.
    void app.restored.then(() => model.start());
  }
};
