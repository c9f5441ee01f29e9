import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import { ILabdeckModel, LabdeckModel } from '../model';
import { DeadlineNotifier } from '../notifier';
import { ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { confirmTerminate, newSparkNotebook } from './actions';
import { budgetCountdown } from './logic';
import { SparkModel } from './model';
import { sparkSection } from './section';

/**
 * Adds the Spark clusters section to the labdeck sidebar, polls the
 * clusters, and warns before the user's running clusters have spent their
 * daily core time (as before a session's deadline).
 */
export const sparkPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.spark,
  description:
    'The Spark clusters section of the labdeck sidebar: create, connect Spark notebooks (PySpark and Scala) to and terminate clusters; warns before their daily core time runs out.',
  autoStart: true,
  requires: [ILabdeckSidebarSections, ILabdeckModel],
  activate: (
    app: JupyterFrontEnd,
    sections: ILabdeckSidebarSections,
    labdeck: LabdeckModel
  ): void => {
    // Lives as long as the page, like the sidebar.
    const model = new SparkModel();
    // Admins list everyone's clusters: only the user's own count down.
    new DeadlineNotifier({
      model,
      countdown: () => budgetCountdown(model.clusters, labdeck.me?.name)
    });
    sections.add(
      sparkSection(model, {
        hubHost: PageConfig.getOption('hubHost'),
        onNewNotebook: kernel => newSparkNotebook(app.commands, kernel),
        confirmTerminate
      })
    );
    // Never await in activate: start polling once the lab is restored.
    void app.restored.then(() => model.start());
  }
};
