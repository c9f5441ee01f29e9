import { Clipboard } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { DeploymentsModel } from '../deployments/model';
import { IDeployment } from '../deployments/tokens';
import {
  createDeploymentView,
  DeploymentViewWidget
} from '../deployments/view';
import { LabdeckRequestError } from '../request';
import { FakeDeploymentsAPI, makeDeployment, minute } from './deployments';
import { byTestId, settle, type } from './utils';

const ORIGIN = 'https://hub.example.org';

describe('Deployment view', () => {
  let model: DeploymentsModel | null = null;
  let widget: Widget | null = null;
  let confirmed: string[] = [];

  beforeEach(() => {
    confirmed = [];
  });

  afterEach(() => {
    jest.restoreAllMocks();
    widget?.dispose();
    model?.dispose();
    widget = null;
    model = null;
  });

  /** The tab of `name` over `api`, attached to the page. */
  async function show(
    api: FakeDeploymentsAPI,
    name: string,
    confirm: boolean | null = true
  ): Promise<HTMLElement> {
    model = new DeploymentsModel({ api });
    await model.refresh();
    widget = new DeploymentViewWidget({
      model,
      deployment: { user: 'alice', name },
      origin: ORIGIN,
      confirmDelete:
        confirm === null
          ? undefined
          : async n => {
              confirmed.push(n);
              return confirm;
            }
    });
    Widget.attach(widget, document.body);
    await settle();
    return widget.node;
  }

  function keyed(name: string): IDeployment {
    const deployment = makeDeployment(name, 'IN_SERVICE');
    deployment.spec = { ...deployment.spec, access: 'key' };
    return deployment;
  }

  it('shows the state and why, and follows the list', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [
      makeDeployment('echo', 'CREATING', {
        progress: { step: 'Starting replicas', done: 0, total: 2 }
      })
    ];
    const node = await show(api, 'echo');
    const view = byTestId(node, 'labdeck-deployment-view')!;
    expect(view.dataset.state).toBe('CREATING');
    expect(view.querySelector('h2')?.textContent).toBe('echo');
    expect(byTestId(view, 'labdeck-deployments-state')?.textContent).toBe(
      'Creating'
    );
    expect(
      byTestId(view, 'labdeck-deployments-progress')?.textContent
    ).toContain('Starting replicas (0 of 2)');
    expect(byTestId(view, 'labdeck-deployments-serving')?.textContent).toBe(
      'realtime · 0 of 1 replica · private · models/echo (inference) · 2048 MB each'
    );

    api.deployments[0].state = 'FAILED';
    api.deployments[0].state_reason =
      'model_fn failed: ValueError: the weights file is missing';
    await model!.refresh();
    await settle();
    expect(view.dataset.state).toBe('FAILED');
    expect(byTestId(view, 'labdeck-deployments-reason')?.textContent).toBe(
      'model_fn failed: ValueError: the weights file is missing'
    );
    expect(byTestId(view, 'labdeck-deployments-progress')).toBeNull();
  });

  it('sends the test payload and shows the status, latency and body', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const node = await show(api, 'echo');
    const payload = byTestId(
      node,
      'labdeck-deployment-test-payload'
    ) as HTMLTextAreaElement;
    expect(payload.value).toBe('{"instances": [[1, 2]]}');
    expect(byTestId(node, 'labdeck-deployment-test-result')).toBeNull();

    const sincesBefore = api.sinces.length;
    byTestId(node, 'labdeck-deployment-test-send')!.click();
    await settle();
    expect(api.invocations).toEqual([['echo', '{"instances": [[1, 2]]}']]);
    expect(byTestId(node, 'labdeck-deployment-test-status')?.textContent).toBe(
      '200 OK'
    );
    expect(byTestId(node, 'labdeck-deployment-test-latency')?.textContent).toBe(
      '4.3 ms'
    );
    expect(byTestId(node, 'labdeck-deployment-test-body')?.textContent).toBe(
      '{\n  "sum": 3\n}'
    );
    // The metrics are read again at once: the call is in this minute.
    expect(api.sinces.length).toBeGreaterThan(sincesBefore);

    // An error answer of the endpoint is shown as it came.
    api.answer = {
      status: 500,
      statusText: 'Internal Server Error',
      contentType: 'application/json',
      body: '{"error": "model_error", "message": "predict_fn failed: KeyError"}',
      latencyMs: 12
    };
    type(payload, '{"values": [1, 2]}');
    await settle();
    byTestId(node, 'labdeck-deployment-test-send')!.click();
    await settle();
    expect(api.invocations[1]).toEqual(['echo', '{"values": [1, 2]}']);
    const status = byTestId(node, 'labdeck-deployment-test-status')!;
    expect(status.textContent).toBe('500 Internal Server Error');
    expect(status.classList).toContain('jp-labdeck-error');
    expect(
      byTestId(node, 'labdeck-deployment-test-body')?.textContent
    ).toContain('predict_fn failed: KeyError');

    // A payload that is not JSON is not sent.
    type(payload, '{"values": ');
    await settle();
    expect(
      byTestId(node, 'labdeck-deployment-test-problems')?.textContent
    ).toMatch(/^The payload is not JSON/);
    byTestId(node, 'labdeck-deployment-test-send')!.click();
    await settle();
    expect(api.invocations).toHaveLength(2);
  });

  it('charts the per-minute metrics and polls them from the last minute', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    // Two minutes ago, on the minute (the charts end at the current one).
    const t0 = (Math.floor(Date.now() / 60_000) - 2) * 60_000;
    const at = (m: number): string => new Date(t0 + m * 60_000).toISOString();
    api.minutes = [
      minute(at(0), {
        invocations: 7,
        errors_4xx: 2,
        model_latency_ms: 0.5,
        overhead_latency_ms: 0.25,
        cold_starts: 1,
        replicas: 2
      })
    ];
    const node = await show(api, 'echo');
    const invocations = byTestId(node, 'labdeck-deployment-invocations')!;
    expect(invocations.querySelector('canvas')).not.toBeNull();
    // A series' highest value, as the chart's table says it (its columns:
    // last, lowest, highest).
    const row = (chart: HTMLElement, label: string, column = 2): string =>
      Array.from(chart.querySelectorAll('tr:not(.u-series)'))
        .find(tr => tr.querySelector('th')?.textContent === label)
        ?.querySelectorAll('td')[column]?.textContent ?? '';
    expect(row(invocations, 'Invocations')).toBe('7');
    expect(row(invocations, '4xx')).toBe('2');
    expect(row(invocations, '5xx')).toBe('0');
    const latency = byTestId(node, 'labdeck-deployment-latency')!;
    expect(row(latency, 'Model')).toBe('0.50 ms');
    expect(row(latency, 'Overhead')).toBe('0.25 ms');
    expect(
      row(byTestId(node, 'labdeck-deployment-cold-starts')!, 'Cold starts')
    ).toBe('1');
    expect(
      row(byTestId(node, 'labdeck-deployment-replicas')!, 'Replicas')
    ).toBe('2');
    expect(api.sinces[0]).toBe(0);

    // The current minute counts on: read again, it replaces its copy.
    api.minutes = [
      minute(at(0), { invocations: 9 }),
      minute(at(1), { invocations: 1 })
    ];
    byTestId(node, 'labdeck-deployment-test-send')!.click();
    await settle();
    expect(api.sinces[api.sinces.length - 1]).toBe(t0 / 1000);
    expect(row(invocations, 'Invocations')).toBe('9');
    // The minutes since had none.
    expect(row(invocations, 'Invocations', 0)).toBe('0');
  });

  it('says when no call was made yet', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const node = await show(api, 'echo');
    expect(
      byTestId(node, 'labdeck-deployment-invocations')?.textContent
    ).toContain('No calls yet.');
  });

  it('gives curl and Python snippets with the test payload, and copies them', async () => {
    const copy = jest
      .spyOn(Clipboard, 'copyToSystem')
      .mockImplementation(() => undefined);
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE'), keyed('secret')];
    let node = await show(api, 'echo');
    const url = `${ORIGIN}/services/labdeck/api/v1/endpoints/alice/echo/invocations`;
    expect(byTestId(node, 'labdeck-deployment-url')?.textContent).toBe(url);
    const curl = byTestId(node, 'labdeck-deployment-curl')!;
    expect(curl.textContent).toContain(`curl -X POST '${url}'`);
    expect(curl.textContent).toContain(
      '-H "Authorization: token $JUPYTERHUB_API_TOKEN"'
    );
    expect(curl.textContent).toContain(`-d '{"instances":[[1,2]]}'`);
    expect(byTestId(node, 'labdeck-deployment-python')?.textContent).toContain(
      'endpoint = Deployment(LabdeckClient(), {"user": "alice", "name": "echo"})'
    );

    // They follow the payload typed.
    type(byTestId(node, 'labdeck-deployment-test-payload'), '{"x": null}');
    await settle();
    expect(curl.textContent).toContain(`-d '{"x":null}'`);
    expect(byTestId(node, 'labdeck-deployment-python')?.textContent).toContain(
      'print(endpoint.invoke({"x": None}))'
    );

    byTestId(node, 'labdeck-deployment-copy-curl')!.click();
    byTestId(node, 'labdeck-deployment-copy-python')!.click();
    expect(copy.mock.calls.map(call => call[0])).toEqual([
      curl.textContent,
      byTestId(node, 'labdeck-deployment-python')?.textContent
    ]);
    widget!.dispose();
    model!.dispose();

    // Key access: the key, not a hub token.
    node = await show(api, 'secret');
    expect(byTestId(node, 'labdeck-deployment-curl')?.textContent).toContain(
      `-H 'Authorization: Bearer <key>'`
    );
    expect(
      byTestId(node, 'labdeck-deployment-curl')?.textContent
    ).not.toContain('JUPYTERHUB_API_TOKEN');
  });

  it('updates what changed, and shows a refusal', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const node = await show(api, 'echo');
    const submit = byTestId(
      node,
      'labdeck-deployment-update-submit'
    ) as HTMLButtonElement;
    // Nothing changed yet.
    expect(submit.disabled).toBe(true);
    type(byTestId(node, 'labdeck-deployment-update-replicas'), '0');
    await settle();
    expect(
      byTestId(node, 'labdeck-deployment-update-problems')?.textContent
    ).toBe('Replicas must be a whole number of at least 1.');
    expect(submit.disabled).toBe(true);

    type(byTestId(node, 'labdeck-deployment-update-replicas'), '3');
    type(byTestId(node, 'labdeck-deployment-update-concurrency'), '50');
    type(byTestId(node, 'labdeck-deployment-update-folder'), 'models/echo-v2');
    await settle();
    api.updateError = new LabdeckRequestError(
      "'replicas' must be a whole number from 1 to 2, not 3.",
      400,
      'invalid_deployment'
    );
    submit.click();
    await settle();
    expect(byTestId(node, 'labdeck-deployment-update-error')?.textContent).toBe(
      "'replicas' must be a whole number from 1 to 2, not 3."
    );
    expect(api.updates).toEqual([]);

    api.updateError = null;
    submit.click();
    await settle();
    expect(api.updates).toEqual([
      [
        'echo',
        { model_dir: 'models/echo-v2', replicas: 3, max_concurrency: 50 }
      ]
    ]);
    expect(byTestId(node, 'labdeck-deployment-update-error')).toBeNull();
    const view = byTestId(node, 'labdeck-deployment-view')!;
    expect(view.dataset.state).toBe('UPDATING');
    // Not in service: no other update until it is.
    expect(submit.disabled).toBe(true);
  });

  it('shows the key of an update to key access once', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const node = await show(api, 'echo');
    type(byTestId(node, 'labdeck-deployment-update-access'), 'key');
    await settle();
    byTestId(node, 'labdeck-deployment-update-submit')!.click();
    await settle();
    expect(api.updates).toEqual([['echo', { access: 'key' }]]);
    expect(byTestId(node, 'labdeck-deployments-key-value')?.textContent).toBe(
      'k-secret-1'
    );
    byTestId(node, 'labdeck-deployments-key-dismiss')!.click();
    await settle();
    expect(byTestId(node, 'labdeck-deployments-key')).toBeNull();
  });

  it('makes a new key for key access', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('open', 'IN_SERVICE'), keyed('secret')];
    let node = await show(api, 'open');
    expect(byTestId(node, 'labdeck-deployment-new-key')).toBeNull();
    widget!.dispose();
    model!.dispose();

    node = await show(api, 'secret');
    api.nextKey = 'k-secret-2';
    byTestId(node, 'labdeck-deployment-new-key')!.click();
    await settle();
    expect(api.keysMade).toEqual(['secret']);
    expect(byTestId(node, 'labdeck-deployments-key-value')?.textContent).toBe(
      'k-secret-2'
    );
  });

  it('deletes after the user confirms', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    let node = await show(api, 'echo', false);
    byTestId(node, 'labdeck-deployment-delete')!.click();
    await settle();
    expect(confirmed).toEqual(['echo']);
    expect(api.removed).toEqual([]);
    widget!.dispose();
    model!.dispose();

    node = await show(api, 'echo', true);
    byTestId(node, 'labdeck-deployment-delete')!.click();
    await settle();
    expect(api.removed).toEqual(['echo']);
    expect(byTestId(node, 'labdeck-deployment-view-gone')?.textContent).toBe(
      'Deployment echo is not in your list any more: it was deleted.'
    );
  });

  it('recommends a configuration, marks it and applies it', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    const node = await show(api, 'echo');
    type(byTestId(node, 'labdeck-deployment-recommend-target'), 'soon');
    await settle();
    expect(
      byTestId(node, 'labdeck-deployment-recommend-problems')?.textContent
    ).toBe('The latency target must be a positive number of ms.');
    byTestId(node, 'labdeck-deployment-recommend-run')!.click();
    await settle();
    expect(api.recommendations).toEqual([]);

    type(byTestId(node, 'labdeck-deployment-recommend-target'), '5');
    type(byTestId(node, 'labdeck-deployment-test-payload'), '{"values": [1]}');
    await settle();
    byTestId(node, 'labdeck-deployment-recommend-run')!.click();
    await settle();
    expect(api.recommendations).toEqual([
      {
        payload: { values: [1] },
        duration_seconds: 10,
        candidates: [{ replicas: 1 }, { replicas: 2 }],
        latency_target_ms: 5
      }
    ]);
    const run = byTestId(node, 'labdeck-deployment-recommend-run')!;
    expect((run as HTMLButtonElement).disabled).toBe(true);
    expect(
      byTestId(node, 'labdeck-deployment-recommend-progress')?.textContent
    ).toContain('Load-testing: 0 of 2 configurations done');

    const one = {
      replicas: 1,
      workers: 1,
      throughput_rps: 900.5,
      p50_ms: 3.1,
      p99_ms: 9.8,
      errors: 0,
      memory_bytes: 80 * 2 ** 20
    };
    const two = { ...one, replicas: 2, throughput_rps: 1700, p99_ms: 4.2 };
    api.run = {
      ...api.run!,
      state: 'COMPLETED',
      progress: { done: 2, total: 2 },
      results: [one, two],
      recommended: two
    };
    // Its next poll (brought forward as when the page is shown again).
    document.dispatchEvent(new Event('visibilitychange'));
    await settle();

    const rows = Array.from(
      node.querySelectorAll('[data-testid="labdeck-deployment-recommend-row"]')
    ) as HTMLElement[];
    expect(rows.map(r => r.dataset.recommended)).toEqual(['false', 'true']);
    expect(rows[1].textContent).toContain('1700');
    expect(rows[1].textContent).toContain('recommended');
    expect(rows[0].textContent).toContain('80 MiB');
    expect(
      byTestId(node, 'labdeck-deployment-recommend-best')?.textContent
    ).toBe('Recommended: 2 replicas (p99 4.2 ms, target 5 ms).');

    byTestId(node, 'labdeck-deployment-recommend-apply')!.click();
    await settle();
    expect(api.updates).toEqual([['echo', { replicas: 2 }]]);
    expect(
      byTestId(node, 'labdeck-deployment-recommend-applied')?.textContent
    ).toContain('2 replicas');
  });

  it('says when no configuration met the target, and why a run failed', async () => {
    const api = new FakeDeploymentsAPI();
    api.deployments = [makeDeployment('echo', 'IN_SERVICE')];
    api.run = {
      id: 'r-1',
      state: 'COMPLETED',
      reason: 'No configuration met the latency target without errors.',
      progress: { done: 2, total: 2 },
      results: [],
      recommended: null,
      latency_target_ms: 1
    };
    let node = await show(api, 'echo');
    expect(
      byTestId(node, 'labdeck-deployment-recommend-none')?.textContent
    ).toContain('No configuration met the latency target without errors.');
    expect(byTestId(node, 'labdeck-deployment-recommend-apply')).toBeNull();
    widget!.dispose();
    model!.dispose();

    api.run = {
      ...api.run,
      state: 'FAILED',
      reason: 'Interrupted by a restart of labdeck: run it again.'
    };
    node = await show(api, 'echo');
    expect(
      byTestId(node, 'labdeck-deployment-recommend-reason')?.textContent
    ).toBe('Interrupted by a restart of labdeck: run it again.');

    api.recommendError = new LabdeckRequestError(
      "A recommendation for 'echo' is running already.",
      409,
      'recommending'
    );
    byTestId(node, 'labdeck-deployment-recommend-run')!.click();
    await settle();
    expect(
      byTestId(node, 'labdeck-deployment-recommend-error')?.textContent
    ).toBe("A recommendation for 'echo' is running already.");
  });

  it('says when the deployment is not in the list any more', async () => {
    const api = new FakeDeploymentsAPI();
    const node = await show(api, 'gone');
    expect(byTestId(node, 'labdeck-deployment-view-gone')?.textContent).toBe(
      'Deployment gone is not in your list any more: it was deleted.'
    );
  });

  it('is a closable tab named after the deployment', () => {
    const api = new FakeDeploymentsAPI();
    model = new DeploymentsModel({ api });
    const tab = createDeploymentView({
      model,
      deployment: { user: 'alice', name: 'echo' },
      origin: ORIGIN
    });
    widget = tab;
    expect(tab.id).toBe('labdeck-deployment-alice-echo');
    expect(tab.title.closable).toBe(true);
    expect(tab.title.label).toBe('echo');
    expect(tab.content.deployment).toEqual({ user: 'alice', name: 'echo' });
  });
});
