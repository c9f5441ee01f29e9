import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { DeploymentCommandIDs } from '../deployments/tokens';
import { selectedItem } from '../fileBrowser';
import { labdeckIcon } from '../icon';
import { registerResourceTabs } from '../tabs';
import { CommandIDs, ILabdeckSidebarSections, PLUGIN_IDS } from '../tokens';
import { JobsModel } from './model';
import { jobsSection } from './section';
import { scriptFromPath } from './spec';
import { JOB_VIEW_NAMESPACE, JobCommandIDs } from './tokens';
import { createJobView, JobViewWidget } from './view';

/** File types of the file browser that run as jobs (`data-file-type`). */
const RUNNABLE_FILE_TYPES = ['python', 'notebook'];

/** Rank of "Run as training job" in the file browser's context menu. */
const CONTEXT_MENU_RANK = 4;

/**
 * Training jobs: the sidebar section (submit, stop, follow, deploy a
 * completed one), a tab per opened job, and "Run as training job" on
 * scripts and notebooks in the file browser.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.jobs,
  description:
    'Training jobs: the sidebar section, a tab per job with its log and charts, and "Run as training job" in the file browser.',
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
    const model = new JobsModel();
    // A completed job's folder goes to the Deployments section's form.
    const deploy = (folder: string): void => {
      void app.commands.execute(DeploymentCommandIDs.deployFolder, {
        path: folder
      });
    };
    // A tab per opened job; those open before a reload come back.
    const openJob: (id: string) => void = registerResourceTabs(app, restorer, {
      namespace: JOB_VIEW_NAMESPACE,
      command: JobCommandIDs.open,
      label: 'Open training job',
      caption:
        'Show a training job in a tab: its log, metric and resource charts',
      fromArgs: args => String(args['id'] ?? '') || null,
      toArgs: id => ({ id }),
      shownIn: (content: JobViewWidget) => content.jobId,
      key: id => id,
      create: id =>
        createJobView({
          model,
          jobId: id,
          onOpen: other => openJob(other),
          onOpenFile: path =>
            void app.commands.execute('docmanager:open', { path }),
          onDeploy: deploy
        })
    });

    app.commands.addCommand(JobCommandIDs.runFile, {
      label: 'Run as training job',
      caption:
        'Put this script or notebook in the training job form of the labdeck sidebar',
      icon: labdeckIcon,
      isVisible: () => selectedScript(browsers, app) !== null,
      execute: async () => {
        const script = selectedScript(browsers, app);
        if (script === null) {
          return;
        }
        model.prefill(script);
        await app.commands.execute(CommandIDs.openSidebar);
      }
    });
    for (const fileType of RUNNABLE_FILE_TYPES) {
      app.contextMenu.addItem({
        command: JobCommandIDs.runFile,
        selector: `.jp-DirListing-item[data-file-type="${fileType}"]`,
        rank: CONTEXT_MENU_RANK
      });
    }

    sections.add(jobsSection(model, openJob, deploy));
    // Never await in activate: start polling once the lab is restored.
    void app.restored.then(() => model.start());
  }
};

/**
 * The job `script` of the item selected in the current file browser (the
 * one right-clicked), or `null` when it is not a script or a notebook.
 */
function selectedScript(
  browsers: IFileBrowserFactory | null,
  app: JupyterFrontEnd
): string | null {
  const item = selectedItem(browsers, app);
  return item && item.type !== 'directory' ? scriptFromPath(item.path) : null;
}
