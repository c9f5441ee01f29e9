import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { refreshIcon } from '@jupyterlab/ui-components';

import { createUsageReport, UsageReportWidget } from './admin/usageReport';
import { deploymentsPlugin } from './deployments/plugin';
import { labdeckIcon } from './icon';
import { jobsPlugin } from './jobs/plugin';
import { ILabdeckModel, LabdeckModel } from './model';
import { DeadlineNotifier } from './notifier';
import { SidebarSections } from './sections';
import { sessionPlugin } from './session/plugin';
import { LabdeckSidebar } from './sidebar';
import { sparkPlugin } from './spark/plugin';
import { LabdeckStatus } from './status';
import {
  CommandIDs,
  DEFAULT_REFRESH_INTERVAL_SECONDS,
  ILabdeckSidebarSections,
  PLUGIN_IDS,
  SIDEBAR_ID,
  STATUS_ITEM_ID
} from './tokens';

/** Rank of the sidebar in the left area (after the built-in panels). */
const SIDEBAR_RANK = 400;

/** Palette category of labdeck commands. */
const PALETTE_CATEGORY = 'labdeck';

/**
 * The registry of sidebar sections: each capability's plugin (session,
 * Spark clusters, training jobs, deployments) adds its section to it.
 */
const sidebarSectionsPlugin: JupyterFrontEndPlugin<ILabdeckSidebarSections> = {
  id: PLUGIN_IDS.sidebarSections,
  description:
    'The sections of the labdeck sidebar, which the plugin of each capability adds.',
  autoStart: true,
  provides: ILabdeckSidebarSections,
  activate: (): ILabdeckSidebarSections => new SidebarSections()
};

/**
 * The sidebar plugin: owns the shared model (one poll of `me`), the left
 * sidebar showing the registered sections and the `labdeck:open-sidebar` /
 * `labdeck:refresh` commands.
 */
const sidebarPlugin: JupyterFrontEndPlugin<LabdeckModel> = {
  id: PLUGIN_IDS.sidebar,
  description:
    'The labdeck sidebar: session, quotas and storage, Spark clusters, training jobs and deployments.',
  autoStart: true,
  provides: ILabdeckModel,
  requires: [ILabdeckSidebarSections],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    sections: ILabdeckSidebarSections,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): LabdeckModel => {
    const model = new LabdeckModel({
      refreshIntervalSeconds: DEFAULT_REFRESH_INTERVAL_SECONDS
    });
    const sidebar = new LabdeckSidebar(model, sections);
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
 * The status bar plugin: `labdeck · <user>`, or the running runtime and
 * its countdown; clicking it opens the sidebar.
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

/**
 * The notifications plugin: warns before the session's deadline (once per
 * threshold of `warn_before_seconds`) and when the session has ended.
 */
const notificationsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.notifications,
  description:
    'Warns before the labdeck session stops and says when it has ended.',
  autoStart: true,
  requires: [ILabdeckModel],
  activate: (_app: JupyterFrontEnd, model: LabdeckModel): void => {
    // Lives as long as the page; it follows the model's sessions.
    new DeadlineNotifier({ model });
  }
};

/**
 * The usage report plugin (admins): the `labdeck:open-usage-report`
 * command opens the report in the main area.
 */
const usageReportPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.usageReport,
  description:
    'Usage report for hub admins: hours per user, runtime and group, CSV export and time grants.',
  autoStart: true,
  requires: [ILabdeckModel],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    model: LabdeckModel,
    palette: ICommandPalette | null
  ): void => {
    let report: MainAreaWidget<UsageReportWidget> | null = null;
    const isAdmin = (): boolean => model.me?.admin === true;

    app.commands.addCommand(CommandIDs.openUsageReport, {
      label: 'Open usage report',
      caption: 'Hours per user, runtime and group; grant time (admins only)',
      icon: args => (args['isPalette'] ? undefined : labdeckIcon),
      isEnabled: isAdmin,
      isVisible: isAdmin,
      execute: () => {
        if (!report || report.isDisposed) {
          report = createUsageReport(model);
          app.shell.add(report, 'main');
        }
        app.shell.activateById(report.id);
      }
    });
    // Show or hide the command once `me` says whether the user is an admin.
    let admin = isAdmin();
    model.changed.connect(() => {
      if (isAdmin() !== admin) {
        admin = isAdmin();
        app.commands.notifyCommandChanged(CommandIDs.openUsageReport);
      }
    });
    if (palette) {
      palette.addItem({
        command: CommandIDs.openUsageReport,
        category: PALETTE_CATEGORY
      });
    }
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  sidebarSectionsPlugin,
  sidebarPlugin,
  sessionPlugin,
  sparkPlugin,
  jobsPlugin,
  deploymentsPlugin,
  statusPlugin,
  notificationsPlugin,
  usageReportPlugin
];

export default plugins;
export { ILabdeckModel, LabdeckModel } from './model';
export { LabdeckRequestError, requestAPI } from './request';
export * from './tokens';
