import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import { ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { confirmTerminate, newPySparkNotebook } from './actions';
import { SparkModel } from './model';
import { sparkSection } from './section';

/** Adds the Spark clusters section to the labdeck sidebar and polls the clusters. */
export const sparkPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.spark,
  description:
    'The Spark clusters section of the labdeck sidebar: create, connect PySpark notebooks to and terminate clusters.',
  autoStart: true,
  requires: [ILabdeckSidebarSections],
  activate: (app: JupyterFrontEnd, sections: ILabdeckSidebarSections): void => {
    // Lives as long as the page, like the sidebar.
    const model = new SparkModel();
    sections.add(
      sparkSection(model, {
        hubHost: PageConfig.getOption('hubHost'),
        onNewNotebook: () => newPySparkNotebook(app.commands),
        confirmTerminate
      })
    );
    // Never await in activate: start polling once the lab is restored.
    void app.restored.then(() => model.start());
  }
};
