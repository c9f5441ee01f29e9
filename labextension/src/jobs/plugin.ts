import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { DeploymentCommandIDs } from '../deployments/tokens';
import { labdeckIcon } from '../icon';
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
    const tracker = new WidgetTracker<MainAreaWidget<JobViewWidget>>({
      namespace: JOB_VIEW_NAMESPACE
    });
    const openJob = (id: string): void => {
      void app.commands.execute(JobCommandIDs.open, { id });
    };
    // A completed job's folder goes to the Deployments section's form.
    const deploy = (folder: string): void => {
      void app.commands.execute(DeploymentCommandIDs.deployFolder, {
        path: folder
      });
    };

    app.commands.addCommand(JobCommandIDs.open, {
      label: 'Open training job',
      caption:
        'Show a training job in a tab: its log, metric and resource charts',
      icon: labdeckIcon,
      execute: args => {
        const id = String(args['id'] ?? '');
        if (!id) {
          return;
        }
        let view = tracker.find(widget => widget.content.jobId === id);
        if (!view) {
          view = createJobView({
            model,
            jobId: id,
            onOpen: openJob,
            onOpenFile: path =>
              void app.commands.execute('docmanager:open', { path }),
            onDeploy: deploy
          });
          void tracker.add(view);
          app.shell.add(view, 'main');
        }
        app.shell.activateById(view.id);
        return view;
      }
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

    if (restorer) {
      // Tabs of jobs open before a reload come back.
      void restorer.restore(tracker, {
        command: JobCommandIDs.open,
        args: widget => ({ id: widget.content.jobId }),
        name: widget => widget.content.jobId
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
  const item = browsers?.tracker.currentWidget?.selectedItems().next();
  if (!item || item.done || item.value.type === 'directory') {
    return null;
  }
  // Without a drive prefix (`RTC:` with real-time collaboration): the
  // path relative to the server root, the home folder.
  return scriptFromPath(app.serviceManager.contents.localPath(item.value.path));
}
