import { Dialog, showDialog } from '@jupyterlab/apputils';

import { requestAPI } from '../request';

/**
 * Ask the user to confirm stopping their session.
 *
 * @returns Whether they confirmed.
 */
export async function confirmStopSession(
  profileName: string
): Promise<boolean> {
  const result = await showDialog({
    title: 'Stop session?',
    body:
      `Your ${profileName} session stops now and its kernels shut down. ` +
      'Save your notebooks first: saved files are kept.',
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Stop session' })
    ]
  });
  return result.button.accept;
}

/**
 * `POST sessions/<id>/stop`.
 *
 * @throws {LabdeckRequestError} with the server's message (e.g. the
 *   session has already ended).
 */
export async function stopSession(
  id: number,
  request: typeof requestAPI = requestAPI
): Promise<void> {
  await request(`sessions/${encodeURIComponent(String(id))}/stop`, {
    method: 'POST'
  });
}
