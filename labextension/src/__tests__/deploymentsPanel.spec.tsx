import { Clipboard } from '@jupyterlab/apputils';

import { IDeploymentRef } from '../deployments/api';
import { DeploymentsModel } from '../deployments/model';
import { deploymentsSection } from '../deployments/section';
import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { LabdeckSidebar } from '../sidebar';
import { IMe } from '../tokens';
import { FakeDeploymentsAPI, makeDeployment } from './deployments';
import { attachSidebar, byTestId, settle, type } from './utils';

const alice: IMe = { name: 'alice', admin: false, groups: [] };

function item(root: ParentNode, name: string): HTMLElement {
  const node = root.querySelector<HTMLElement>(
    `[data-testid="labdeck-deployments-item"][data-name="${name}"]`
  );
  if (!node) {
    throw new Error(`no deployment ${name}`);
  }
  return node;
}

function value(root: ParentNode, id: string): string {
  return (byTestId(root, id) as HTMLInputElement).value;
}

describe('Deployments section', () => {
  let widget: LabdeckSidebar | null = null;
  let model: DeploymentsModel | null = null;

  afterEach(() => {
    jest.restoreAllMocks();
    model?.dispose();
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
    model = null;
  });

  async function show(
    api: FakeDeploymentsAPI,
    onOpen?: (ref: IDeploymentRef) => void,
    me: IMe = alice
  ): Promise<HTMLElement> {
    const labdeck = new LabdeckModel({ fetchMe: () => Promise.resolve(me) });
    model = new DeploymentsModel({ api });
    widget = attachSidebar(labdeck, [deploymentsSection(model, onOpen)]);
    await labdeck.refresh();
    await model.refresh();
    widget.update();
    await settle();
    return widget.node;
  }

  it('lists deployments with their state, progress, replicas, mode and access', async () => {
    const api = new FakeDeploymentsAPI();
    const serverless = makeDeployment('sless', 'IN_SERVICE', {
      replicas_running: 0
    });
    serverless.spec = {
      ...serverless.spec,
      mode: 'serverless',
      idle_seconds_to_zero: 60,
      access: 'hub'
    };
    api.deployments = [
      makeDeployment('creating', 'CREATING', {
        progress: { step: 'Starting replicas', done: 1, total: 2 }
      }),
      makeDeployment('serving', 'IN_SERVICE', { replicas_running: 2 }),
      serverless,
      makeDeployment('broken', 'FAILED', {
        state_reason: 'model_fn failed: ValueError: the weights file is missing'
      }),
      makeDeployment('updating', 'UPDATING'),
      makeDeployment('deleting', 'DELETING'),
      makeDeployment('stopped', 'STOPPED', {
        state_reason: 'Daily replica time used up.'
      })
    ];
    api.deployments[1].spec = { ...api.deployments[1].spec, replicas: 2 };
    const node = await show(api);
    const section = byTestId(node, 'labdeck-section-deployments')!;
    expect(section.textContent).not.toContain('coming soon');

    const chips = Array.from(
      section.querySelectorAll('[data-testid="labdeck-deployments-state"]')
    ).map(chip => [chip.textContent, chip.classList[1]]);
    expect(chips).toEqual([
      ['Creating', 'jp-mod-waiting'],
      ['In service', 'jp-mod-active'],
      ['In service', 'jp-mod-active'],
      ['Failed', 'jp-mod-failed'],
      ['Updating', 'jp-mod-waiting'],
      ['Deleting', 'jp-mod-waiting'],
      ['Stopped', 'jp-mod-ended']
    ]);

    const creating = item(node, 'creating');
    expect(
      byTestId(creating, 'labdeck-deployments-progress')?.textContent
    ).toContain('Starting replicas (1 of 2)');
    expect(
      byTestId(creating, 'labdeck-deployments-progress')
        ?.querySelector('[role=progressbar]')
        ?.getAttribute('aria-valuenow')
    ).toBe('50');
    expect(
      byTestId(item(node, 'serving'), 'labdeck-deployments-serving')
        ?.textContent
    ).toBe('realtime · 2 of 2 replicas · private');
    expect(
      byTestId(item(node, 'sless'), 'labdeck-deployments-serving')?.textContent
    ).toBe('serverless · at zero · hub users');
    const reason = byTestId(item(node, 'broken'), 'labdeck-deployments-reason');
    expect(reason?.textContent).toBe(
      'model_fn failed: ValueError: the weights file is missing'
    );
    expect(reason?.classList).toContain('jp-labdeck-error');
    expect(
      byTestId(item(node, 'stopped'), 'labdeck-deployments-reason')?.classList
    ).toContain('jp-labdeck-muted');
    expect(
      byTestId(item(node, 'serving'), 'labdeck-deployments-progress')
    ).toBeNull();
  });

  it('labels the deployments of others (admins see them)', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [
      makeDeployment('mine', 'IN_SERVICE'),
      makeDeployment('theirs', 'IN_SERVICE', { user: 'bob' })
    ];
    const node = await show(api, undefined, { ...alice, admin: true });
    expect(
      byTestId(item(node, 'theirs'), 'labdeck-deployments-serving')?.textContent
    ).toBe('realtime · 1 of 1 replica · private · bob');
    expect(
      byTestId(item(node, 'mine'), 'labdeck-deployments-serving')?.textContent
    ).toBe('realtime · 1 of 1 replica · private');
  });

  it('checks the form, shows the service’s refusal, then deploys and opens the tab', async () => {
    const api = new FakeDeploymentsAPI();
    const opened: IDeploymentRef[] = [];
    const node = await show(api, ref => opened.push(ref));
    expect(byTestId(node, 'labdeck-deployments-empty')).not.toBeNull();

    // The name follows the folder.
    type(byTestId(node, 'labdeck-deployments-form-folder'), 'models/Iris_V2');
    await settle();
    expect(value(node, 'labdeck-deployments-form-name')).toBe('iris-v2');

    type(byTestId(node, 'labdeck-deployments-form-replicas'), '0');
    type(byTestId(node, 'labdeck-deployments-form-memory'), '99999');
    await settle();
    expect(
      byTestId(node, 'labdeck-deployments-form-problems')?.textContent
    ).toBe(
      'Replicas must be a whole number of at least 1.Memory (MB) must be a whole number from 128 to 6144.'
    );
    byTestId(node, 'labdeck-deployments-form-submit')!.click();
    await settle();
    expect(api.created).toEqual([]);

    type(byTestId(node, 'labdeck-deployments-form-replicas'), '2');
    type(byTestId(node, 'labdeck-deployments-form-memory'), '512');
    await settle();
    expect(byTestId(node, 'labdeck-deployments-form-problems')).toBeNull();

    // Serverless: no replicas, an idle time instead.
    type(byTestId(node, 'labdeck-deployments-form-mode'), 'serverless');
    await settle();
    expect(byTestId(node, 'labdeck-deployments-form-replicas')).toBeNull();
    expect(value(node, 'labdeck-deployments-form-idle')).toBe('600');
    type(byTestId(node, 'labdeck-deployments-form-mode'), 'realtime');
    await settle();
    expect(byTestId(node, 'labdeck-deployments-form-idle')).toBeNull();

    api.createError = new LabdeckRequestError(
      "'models/Iris_V2' holds no model: put in it an inference.py with model_fn and predict_fn, or a scikit-learn model saved as model.joblib.",
      400,
      'invalid_deployment'
    );
    byTestId(node, 'labdeck-deployments-form-submit')!.click();
    await settle();
    const refusal = byTestId(node, 'labdeck-deployments-form-error');
    expect(refusal?.textContent).toBe(api.createError.message);
    expect(refusal?.getAttribute('role')).toBe('alert');
    expect(opened).toEqual([]);
    // The form keeps what was typed.
    expect(value(node, 'labdeck-deployments-form-folder')).toBe(
      'models/Iris_V2'
    );

    // Typing clears the refusal; a name typed stays when the folder changes.
    type(byTestId(node, 'labdeck-deployments-form-name'), 'iris');
    await settle();
    expect(byTestId(node, 'labdeck-deployments-form-error')).toBeNull();
    type(byTestId(node, 'labdeck-deployments-form-folder'), 'models/iris');
    await settle();
    expect(value(node, 'labdeck-deployments-form-name')).toBe('iris');

    api.createError = null;
    byTestId(node, 'labdeck-deployments-form-submit')!.click();
    await settle();
    expect(api.created).toEqual([
      {
        name: 'iris',
        model_dir: 'models/iris',
        mode: 'realtime',
        replicas: 2,
        max_concurrency: 20,
        memory_mb: 512,
        access: 'private'
      }
    ]);
    expect(opened.map(r => [r.user, r.name])).toEqual([['alice', 'iris']]);
    expect(
      byTestId(item(node, 'iris'), 'labdeck-deployments-state')?.textContent
    ).toBe('Creating');
    // No key for private access; the form is ready for the next one.
    expect(byTestId(node, 'labdeck-deployments-key')).toBeNull();
    expect(value(node, 'labdeck-deployments-form-folder')).toBe('');
  });

  it('shows a refusal of the quota as the service words it', async () => {
    const api = new FakeDeploymentsAPI();
    const node = await show(api);
    type(byTestId(node, 'labdeck-deployments-form-folder'), 'models/echo');
    await settle();
    api.createError = new LabdeckRequestError(
      'You may have 2 deployments at once: delete one first.',
      403,
      'deployments_limit'
    );
    byTestId(node, 'labdeck-deployments-form-submit')!.click();
    await settle();
    expect(byTestId(node, 'labdeck-deployments-form-error')?.textContent).toBe(
      'You may have 2 deployments at once: delete one first.'
    );
  });

  it('shows the key of a key-access deployment once, with a copy button', async () => {
    const copy = jest
      .spyOn(Clipboard, 'copyToSystem')
      .mockImplementation(() => undefined);
    const api = new FakeDeploymentsAPI();
    const node = await show(api);
    type(byTestId(node, 'labdeck-deployments-form-folder'), 'models/echo');
    type(byTestId(node, 'labdeck-deployments-form-access'), 'key');
    await settle();
    byTestId(node, 'labdeck-deployments-form-submit')!.click();
    await settle();
    expect(api.created[0].access).toBe('key');

    const notice = byTestId(node, 'labdeck-deployments-key')!;
    expect(notice.getAttribute('role')).toBe('alert');
    expect(byTestId(notice, 'labdeck-deployments-key-value')?.textContent).toBe(
      'k-secret-1'
    );
    expect(notice.textContent).toContain('shown only this once');
    const copyButton = byTestId(notice, 'labdeck-deployments-key-copy')!;
    copyButton.click();
    await settle();
    expect(copy).toHaveBeenCalledWith('k-secret-1');
    expect(copyButton.textContent).toContain('Copied');

    // The list never holds the key, and it stays only until dismissed.
    expect(model!.deployment({ user: 'alice', name: 'echo' })?.key).toBe(
      undefined
    );
    await model!.refresh();
    await settle();
    expect(byTestId(node, 'labdeck-deployments-key')).not.toBeNull();
    byTestId(node, 'labdeck-deployments-key-dismiss')!.click();
    await settle();
    expect(byTestId(node, 'labdeck-deployments-key')).toBeNull();
    expect(node.textContent).not.toContain('k-secret-1');
  });

  it('puts a folder proposed from elsewhere in the form', async () => {
    const api = new FakeDeploymentsAPI();
    const node = await show(api);
    type(byTestId(node, 'labdeck-deployments-form-name'), 'typed');
    await settle();
    model!.prefill('labdeck/jobs/j-1A2b');
    await settle();
    expect(value(node, 'labdeck-deployments-form-folder')).toBe(
      'labdeck/jobs/j-1A2b'
    );
    expect(value(node, 'labdeck-deployments-form-name')).toBe('j-1a2b');
    // How it serves is what the user picks next.
    expect(document.activeElement).toBe(
      byTestId(node, 'labdeck-deployments-form-mode')
    );
    // The same folder proposed again after an edit comes back.
    type(byTestId(node, 'labdeck-deployments-form-folder'), 'other');
    await settle();
    model!.prefill('labdeck/jobs/j-1A2b');
    await settle();
    expect(value(node, 'labdeck-deployments-form-folder')).toBe(
      'labdeck/jobs/j-1A2b'
    );
  });

  it('opens a deployment of the list in its tab, and offers none without a way to', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const opened: IDeploymentRef[] = [];
    let node = await show(api, ref => opened.push(ref));
    byTestId(item(node, 'echo'), 'labdeck-deployments-open')!.click();
    expect(opened.map(r => r.name)).toEqual(['echo']);
    model!.dispose();
    widget!.model.dispose();
    widget!.dispose();

    node = await show(api);
    expect(byTestId(item(node, 'echo'), 'labdeck-deployments-open')).toBeNull();
  });
});
