import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { refreshIcon } from '@jupyterlab/ui-components';

import { labdeckIcon } from './icon';
import { ILabdeckModel, LabdeckModel } from './model';
import { LabdeckSidebar } from './sidebar';
import { LabdeckStatus } from './status';
import {
  CommandIDs,
  DEFAULT_REFRESH_INTERVAL_SECONDS,
  PLUGIN_IDS,
  SIDEBAR_ID,
  STATUS_ITEM_ID
} from './tokens';

/** Rank of the sidebar in the left area (after the built-in panels). */
const SIDEBAR_RANK = 400;

/** Palette category of labdeck commands. */
const PALETTE_CATEGORY = 'labdeck';

/**
 * The sidebar plugin: owns the shared model (one fetch loop), the left
 * sidebar and the `labdeck:open-sidebar` / `labdeck:refresh` commands.
 */
const sidebarPlugin: JupyterFrontEndPlugin<LabdeckModel> = {
  id: PLUGIN_IDS.sidebar,
  description:
    'The labdeck sidebar: session, quotas and storage, Spark clusters, training jobs and deployments.',
  autoStart: true,
  provides: ILabdeckModel,
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): LabdeckModel => {
    const model = new LabdeckModel({
      refreshIntervalSeconds: DEFAULT_REFRESH_INTERVAL_SECONDS
    });
    const sidebar = new LabdeckSidebar(model);
    app.shell.add(sidebar, 'left', { rank: SIDEBAR_RANK });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
    }

    app.commands.addCommand(CommandIDs.openSidebar, {
      label: 'Open labdeck',
      caption: 'Show the labdeck sidebar',
      icon: args => (args['isPalette'] ? undefined : labdeckIcon),
      execute: () => app.shell.activateById(sidebar.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh labdeck',
      caption: 'Fetch your labdeck session and quota data again',
      icon: args => (args['isPalette'] ? undefined : refreshIcon),
      execute: () => model.refresh()
    });
    if (palette) {
      palette.addItem({
        command: CommandIDs.openSidebar,
        category: PALETTE_CATEGORY
      });
      palette.addItem({
        command: CommandIDs.refresh,
        category: PALETTE_CATEGORY
      });
    }

    // Never await in activate: start polling and read settings once the
    // application is restored.
    void app.restored.then(() => model.start());
    if (settingRegistry) {
      Promise.all([settingRegistry.load(PLUGIN_IDS.sidebar), app.restored])
        .then(([settings]) => {
          const apply = (): void => {
            model.refreshIntervalSeconds = settings.get(
              'refreshIntervalSeconds'
            ).composite as number;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error('labdeck: failed to load settings.', reason);
        });
    }
    return model;
  }
};

/**
 * The status bar plugin: `labdeck · <user>` and the session countdown;
 * clicking it opens the sidebar.
 */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.status,
  description:
    'Shows the labdeck user and the time left in the session in the status bar.',
  autoStart: true,
  requires: [ILabdeckModel],
  optional: [IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    model: LabdeckModel,
    statusBar: IStatusBar | null
  ): void => {
    if (!statusBar) {
      return;
    }
    const item = new LabdeckStatus({
      model,
      onClick: () => void app.commands.execute(CommandIDs.openSidebar)
    });
    statusBar.registerStatusItem(STATUS_ITEM_ID, {
      item,
      align: 'left',
      rank: 100
    });
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [sidebarPlugin, statusPlugin];

export default plugins;
export { ILabdeckModel, LabdeckModel } from './model';
export { LabdeckRequestError, requestAPI } from './request';
export * from './tokens';
