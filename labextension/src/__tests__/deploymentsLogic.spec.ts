import {
  curlSnippet,
  defaultDeployForm,
  describeServing,
  endpointUrl,
  formatBody,
  mergeMinutes,
  minuteSeries,
  nameFromFolder,
  nextSince,
  pythonLiteral,
  pythonSnippet,
  recommendationRequest,
  updateFormOf,
  validateDeployForm,
  validateUpdateForm
} from '../deployments/logic';
import { formatState } from '../format';
import { makeDeployment, minute } from './deployments';

describe('nameFromFolder', () => {
  it('lowercases the last part of the folder and dashes the rest', () => {
    expect(nameFromFolder('models/Iris_v2')).toBe('iris-v2');
    expect(nameFromFolder('models/my model/')).toBe('my-model');
    expect(nameFromFolder('labdeck/jobs/j-1A2b')).toBe('j-1a2b');
    expect(nameFromFolder('')).toBe('');
  });

  it('starts with a letter and fits in a URL segment', () => {
    expect(nameFromFolder('2024')).toBe('model-2024');
    expect(nameFromFolder('__x__')).toBe('x');
    expect(nameFromFolder('a'.repeat(80))).toHaveLength(63);
  });
});

describe('validateDeployForm', () => {
  it('makes the request of a realtime deployment', () => {
    const form = { ...defaultDeployForm('models/echo/'), replicas: '2' };
    expect(validateDeployForm(form)).toEqual({
      request: {
        name: 'echo',
        model_dir: 'models/echo',
        mode: 'realtime',
        replicas: 2,
        max_concurrency: 20,
        memory_mb: 2048,
        access: 'private'
      },
      problems: []
    });
  });

  it('sends idle seconds for serverless only', () => {
    const form = {
      ...defaultDeployForm('models/echo'),
      mode: 'serverless' as const,
      idleSeconds: '30',
      access: 'key' as const
    };
    expect(validateDeployForm(form).request).toEqual({
      name: 'echo',
      model_dir: 'models/echo',
      mode: 'serverless',
      replicas: 1,
      max_concurrency: 20,
      idle_seconds_to_zero: 30,
      memory_mb: 2048,
      access: 'key'
    });
    expect(validateDeployForm({ ...form, idleSeconds: '5' }).problems).toEqual([
      'Idle seconds to zero must be a whole number from 10 to 604800.'
    ]);
  });

  it('says what is wrong, and sends nothing', () => {
    const form = {
      ...defaultDeployForm('../other'),
      name: 'Bad Name',
      replicas: '0',
      maxConcurrency: '500',
      memoryMb: '64'
    };
    expect(validateDeployForm(form)).toEqual({
      request: null,
      problems: [
        'The model folder must be inside your home folder.',
        'The name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter (it is part of the endpoint’s URL).',
        'Replicas must be a whole number of at least 1.',
        'Max concurrency must be a whole number from 1 to 200.',
        'Memory (MB) must be a whole number from 128 to 6144.'
      ]
    });
    expect(validateDeployForm(defaultDeployForm('/etc')).problems).toContain(
      'The model folder must be inside your home folder.'
    );
    expect(validateDeployForm(defaultDeployForm('')).problems).toContain(
      'Give the model folder (in your home).'
    );
  });
});

describe('validateUpdateForm', () => {
  const deployment = makeDeployment('echo', 'IN_SERVICE');

  it('sends only what changed', () => {
    const form = { ...updateFormOf(deployment), replicas: '3', access: 'key' };
    expect(
      validateUpdateForm({ ...form, access: 'key' as const }, deployment)
        .request
    ).toEqual({ replicas: 3, access: 'key' });
    expect(validateUpdateForm(updateFormOf(deployment), deployment)).toEqual({
      request: null,
      problems: []
    });
  });

  it('changes the idle time of a serverless deployment, not its replicas', () => {
    const serverless = makeDeployment('echo', 'IN_SERVICE', {
      spec: {
        ...deployment.spec,
        mode: 'serverless',
        idle_seconds_to_zero: 600
      }
    });
    const form = {
      ...updateFormOf(serverless),
      replicas: '4',
      idleSeconds: '60',
      modelDir: 'models/echo-v2'
    };
    expect(validateUpdateForm(form, serverless).request).toEqual({
      model_dir: 'models/echo-v2',
      idle_seconds_to_zero: 60
    });
  });

  it('says what is wrong', () => {
    const form = {
      ...updateFormOf(deployment),
      replicas: 'two',
      modelDir: '/tmp'
    };
    expect(validateUpdateForm(form, deployment)).toEqual({
      request: null,
      problems: [
        'The model folder must be inside your home folder.',
        'Replicas must be a whole number of at least 1.'
      ]
    });
  });
});

describe('wording', () => {
  it('names states as people read them', () => {
    expect(formatState('IN_SERVICE')).toBe('In service');
    expect(formatState('FAILED')).toBe('Failed');
  });

  it('describes how it serves', () => {
    expect(
      describeServing(
        makeDeployment('a', 'IN_SERVICE', {
          replicas_running: 1,
          spec: {
            ...makeDeployment('a', 'IN_SERVICE').spec,
            replicas: 2,
            access: 'hub'
          }
        })
      )
    ).toBe('realtime · 1 of 2 replicas · hub users');
    const serverless = makeDeployment('b', 'IN_SERVICE', {
      replicas_running: 0
    });
    serverless.spec = {
      ...serverless.spec,
      mode: 'serverless',
      access: 'key'
    };
    expect(describeServing(serverless)).toBe(
      'serverless · at zero · with a key'
    );
  });

  it('indents a JSON answer, and leaves others as they came', () => {
    expect(formatBody('{"a":1}', 'application/json')).toBe('{\n  "a": 1\n}');
    expect(formatBody('{"a":1', 'application/json')).toBe('{"a":1');
    expect(formatBody('hello', 'text/plain')).toBe('hello');
  });
});

describe('snippets', () => {
  const url = endpointUrl(
    'https://hub.example.org/',
    '/services/labdeck/api/v1/endpoints/alice/echo/invocations'
  );

  it('puts the endpoint on the hub host', () => {
    expect(url).toBe(
      'https://hub.example.org/services/labdeck/api/v1/endpoints/alice/echo/invocations'
    );
    expect(endpointUrl('https://a', 'http://b/x')).toBe('http://b/x');
  });

  it('calls with the hub token for private and hub access', () => {
    const deployment = makeDeployment('echo', 'IN_SERVICE');
    expect(curlSnippet(deployment, url, `{"text": "it's"}`)).toBe(
      [
        `curl -X POST '${url}' \\`,
        '  -H "Authorization: token $JUPYTERHUB_API_TOKEN" \\',
        `  -H 'Content-Type: application/json' \\`,
        `  -d '{"text":"it'\\''s"}'`
      ].join('\n')
    );
  });

  it('calls with the key for key access', () => {
    const deployment = makeDeployment('echo', 'IN_SERVICE');
    deployment.spec = { ...deployment.spec, access: 'key' };
    expect(curlSnippet(deployment, url, 'not json')).toContain(
      `-H 'Authorization: Bearer <key>'`
    );
    // A payload that is not JSON is replaced by the sample.
    expect(curlSnippet(deployment, url, 'not json')).toContain(
      `-d '{"instances":[[1,2]]}'`
    );
    expect(curlSnippet(deployment, url, '{}', 'k-1')).toContain(
      `-H 'Authorization: Bearer k-1'`
    );
  });

  it('calls from Python with labdeck’s client', () => {
    const deployment = makeDeployment('echo', 'IN_SERVICE');
    expect(
      pythonSnippet(deployment, '{"instances": [[1, 2]], "raw": true}')
    ).toBe(
      [
        'from labdeck.deployments.client import Deployment',
        'from labdeck.widgets.client import LabdeckClient',
        '',
        'endpoint = Deployment(LabdeckClient(), {"user": "alice", "name": "echo"})',
        'print(endpoint.invoke({"instances": [[1, 2]], "raw": True}))'
      ].join('\n')
    );
    expect(pythonLiteral([null, false, 1.5, 'a"b'])).toBe(
      '[None, False, 1.5, "a\\"b"]'
    );
  });
});

describe('metrics', () => {
  const at = (m: number): string =>
    new Date(Date.UTC(2026, 0, 1, 10, m)).toISOString();

  it('merges a minute read again over its older copy', () => {
    const kept = [minute(at(0), { invocations: 1 }), minute(at(1))];
    const merged = mergeMinutes(kept, [
      minute(at(1), { invocations: 5 }),
      minute(at(2), { invocations: 2 })
    ]);
    expect(merged.map(m => [m.time, m.invocations])).toEqual([
      [at(0), 1],
      [at(1), 5],
      [at(2), 2]
    ]);
    expect(nextSince(merged)).toBe(Date.UTC(2026, 0, 1, 10, 2) / 1000);
    expect(nextSince([])).toBe(0);
    expect(mergeMinutes(merged, [], 2).map(m => m.time)).toEqual([
      at(1),
      at(2)
    ]);
  });

  it('makes a series a minute, up to now, filling minutes without record', () => {
    const now = Date.UTC(2026, 0, 1, 10, 3, 30);
    const data = minuteSeries(
      [
        minute(at(0), { invocations: 3, model_latency_ms: 1.5, replicas: 2 }),
        minute(at(2), { invocations: 1, model_latency_ms: 0.5, replicas: 1 })
      ],
      [
        ['invocations', 'Invocations', 'zero'],
        ['model_latency_ms', 'Model', 'gap'],
        ['replicas', 'Replicas', 'carry']
      ],
      now,
      3
    );
    const minuteAt = (m: number): number => Date.UTC(2026, 0, 1, 10, m) / 1000;
    // From the first record (earlier than 3 minutes ago) to this minute.
    expect(data.x).toEqual([0, 1, 2, 3].map(minuteAt));
    expect(data.time).toBe(true);
    expect(data.series).toEqual([
      { key: 'invocations', label: 'Invocations', values: [3, 0, 1, 0] },
      {
        key: 'model_latency_ms',
        label: 'Model',
        values: [1.5, null, 0.5, null]
      },
      { key: 'replicas', label: 'Replicas', values: [2, 2, 1, 1] }
    ]);
    // At least the window, and nothing before a first record.
    expect(
      minuteSeries([minute(at(3))], [['replicas', 'Replicas', 'carry']], now, 3)
        .x
    ).toEqual([1, 2, 3].map(minuteAt));
    expect(minuteSeries([], [['invocations', 'I', 'zero']], now)).toEqual({
      x: [],
      series: [],
      time: true
    });
  });
});

describe('recommendationRequest', () => {
  it('load-tests one and two replicas with the test payload', () => {
    expect(recommendationRequest('{"instances": [[1, 2]]}', '50')).toEqual({
      request: {
        payload: { instances: [[1, 2]] },
        duration_seconds: 10,
        candidates: [{ replicas: 1 }, { replicas: 2 }],
        latency_target_ms: 50
      },
      problems: []
    });
  });

  it('says what is wrong', () => {
    const { request, problems } = recommendationRequest('{', '-1');
    expect(request).toBeNull();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^The payload is not JSON/);
    expect(problems[1]).toBe(
      'The latency target must be a positive number of ms.'
    );
  });
});
