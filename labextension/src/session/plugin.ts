import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { ILabdeckModel, LabdeckModel } from '../model';
import { IdleNotifier } from '../notifier';
import { CommandIDs, ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { sessionSection } from './section';

/** Adds the Session section to the labdeck sidebar. */
export const sessionPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.session,
  description:
    'The Session section of the labdeck sidebar: runtime and countdown, idle warnings, usage, storage and the Stop button.',
  autoStart: true,
  requires: [ILabdeckSidebarSections, ILabdeckModel],
  activate: (
    app: JupyterFrontEnd,
    sections: ILabdeckSidebarSections,
    model: LabdeckModel
  ): void => {
    // the control plane's warning before an idle stop, once per warning
    new IdleNotifier({ model });
    sections.add(
      sessionSection(model, {
        // The command comes from the `labdeck:usage-report` plugin; the
        // button only shows for admins.
        onOpenUsageReport: () => {
          if (app.commands.hasCommand(CommandIDs.openUsageReport)) {
            void app.commands.execute(CommandIDs.openUsageReport);
          }
        }
      })
    );
  }
};
