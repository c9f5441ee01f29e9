import { Dialog, showDialog } from '@jupyterlab/apputils';

/**
 * Ask the user to confirm an action that cannot be undone (terminate a
 * cluster, delete a deployment), its button in the warning colour.
 *
 * @returns Whether they confirmed.
 */
export async function confirmAction(options: {
  title: string;
  body: string;
  /** The button that confirms, e.g. `Delete`. */
  label: string;
}): Promise<boolean> {
  const result = await showDialog({
    title: options.title,
    body: options.body,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: options.label })
    ]
  });
  return result.button.accept;
}
