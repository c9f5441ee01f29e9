import { JupyterFrontEnd } from '@jupyterlab/application';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Contents } from '@jupyterlab/services';

/**
 * The item selected in the current file browser (the one right-clicked):
 * its path relative to the home folder and its type; `null` when none is.
 */
export function selectedItem(
  browsers: IFileBrowserFactory | null,
  app: JupyterFrontEnd
): { path: string; type: Contents.ContentType } | null {
  const item = browsers?.tracker.currentWidget?.selectedItems().next();
  if (!item || item.done) {
    return null;
  }
  // Without a drive prefix (`RTC:` with real-time collaboration): the
  // path relative to the server root, the home folder.
  return {
    path: app.serviceManager.contents.localPath(item.value.path),
    type: item.value.type
  };
}
