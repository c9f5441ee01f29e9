import { confirmAction } from '../components/confirm';
import { ICluster, PYSPARK_KERNEL } from './tokens';

/** The part of the command registry the actions use. */
export interface ICommandRunner {
  hasCommand(id: string): boolean;
  execute(id: string, args?: { [key: string]: unknown }): Promise<unknown>;
}

/**
 * Ask the user to confirm terminating a cluster.
 *
 * @returns Whether they confirmed.
 */
export async function confirmTerminate(cluster: ICluster): Promise<boolean> {
  return confirmAction({
    title: `Terminate ${cluster.name}?`,
    body:
      'Its workers stop now and every Spark session on it ends, with ' +
      'its variables. Files you saved are kept.',
    label: 'Terminate'
  });
}

/**
 * Open a new notebook with one of sparkmagic's kernels (PySpark by
 * default, or Scala), which run on the connected cluster:
 * `notebook:create-new` when the notebook plugin is there, else
 * `docmanager:new-untitled` and `docmanager:open`.
 */
export async function newSparkNotebook(
  commands: ICommandRunner,
  kernel = PYSPARK_KERNEL,
  cwd = ''
): Promise<void> {
  if (commands.hasCommand('notebook:create-new')) {
    await commands.execute('notebook:create-new', {
      cwd,
      kernelName: kernel
    });
    return;
  }
  const model = (await commands.execute('docmanager:new-untitled', {
    path: cwd,
    type: 'notebook'
  })) as { path: string } | undefined;
  if (model?.path) {
    await commands.execute('docmanager:open', {
      path: model.path,
      factory: 'Notebook',
      kernel: { name: kernel }
    });
  }
}
