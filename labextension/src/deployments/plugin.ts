import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { confirmAction } from '../components/confirm';
import { selectedItem } from '../fileBrowser';
import { labdeckIcon } from '../icon';
import { registerResourceTabs } from '../tabs';
import { CommandIDs, ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { deploymentKey, homePath } from './logic';
import { DeploymentsModel } from './model';
import { deploymentsSection } from './section';
import { DEPLOYMENT_VIEW_NAMESPACE, DeploymentCommandIDs } from './tokens';
import { createDeploymentView, DeploymentViewWidget } from './view';

/** Rank of "Deploy as endpoint" in the file browser's context menu. */
const CONTEXT_MENU_RANK = 4;

/**
 * Model deployments: the sidebar section (deploy, follow), a tab per
 * opened deployment (test, metrics, snippets, update, delete, recommender),
 * and "Deploy as endpoint" on folders in the file browser.
 */
export const deploymentsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.deployments,
  description:
    'Model deployments: the sidebar section, a tab per deployment with its test form, metric charts and recommender, and "Deploy as endpoint" in the file browser.',
  autoStart: true,
  requires: [ILabdeckSidebarSections],
  optional: [ILayoutRestorer, IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    sections: ILabdeckSidebarSections,
    restorer: ILayoutRestorer | null,
    browsers: IFileBrowserFactory | null
  ): void => {
    // Lives as long as the page, like the sidebar; the tabs share its poll.
    const model = new DeploymentsModel();
    // The endpoint's path is on the hub's host: the page's own, unless
    // the lab is served elsewhere.
    const origin = PageConfig.getOption('hubHost') || window.location.origin;
    // A tab per opened deployment; those open before a reload come back.
    const openDeployment = registerResourceTabs(app, restorer, {
      namespace: DEPLOYMENT_VIEW_NAMESPACE,
      command: DeploymentCommandIDs.open,
      label: 'Open deployment',
      caption:
        'Show a deployment in a tab: test it, watch its metrics, update or delete it',
      fromArgs: args => {
        const ref = {
          user: String(args['user'] ?? ''),
          name: String(args['name'] ?? '')
        };
        return ref.user && ref.name ? ref : null;
      },
      toArgs: ({ user, name }) => ({ user, name }),
      shownIn: (content: DeploymentViewWidget) => content.deployment,
      key: deploymentKey,
      create: deployment =>
        createDeploymentView({
          model,
          deployment,
          origin,
          confirmDelete: name =>
            confirmAction({
              title: `Delete ${name}?`,
              body:
                'Its replicas stop now and its endpoint answers 404 from ' +
                'then on. Its model folder is kept.',
              label: 'Delete'
            })
        })
    });

    app.commands.addCommand(DeploymentCommandIDs.deployFolder, {
      label: 'Deploy as endpoint',
      caption:
        'Put this model folder in the deploy form of the labdeck sidebar',
      icon: labdeckIcon,
      isVisible: args =>
        typeof args['path'] === 'string' ||
        selectedFolder(browsers, app) !== null,
      execute: async args => {
        const folder =
          typeof args['path'] === 'string'
            ? homePath(args['path'])
            : selectedFolder(browsers, app);
        if (folder === null) {
          return;
        }
        model.prefill(folder);
        await app.commands.execute(CommandIDs.openSidebar);
      }
    });
    app.contextMenu.addItem({
      command: DeploymentCommandIDs.deployFolder,
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: CONTEXT_MENU_RANK
    });

    sections.add(deploymentsSection(model, openDeployment));
    // Never await in activate: start polling once the lab is restored.
    void app.restored.then(() => model.start());
  }
};

/**
 * The folder selected in the current file browser (the one right-clicked),
 * relative to the home folder; `null` when it is not a folder.
 */
function selectedFolder(
  browsers: IFileBrowserFactory | null,
  app: JupyterFrontEnd
): string | null {
  const item = selectedItem(browsers, app);
  return item?.type === 'directory' ? homePath(item.path) : null;
}
