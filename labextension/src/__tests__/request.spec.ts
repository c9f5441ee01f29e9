import { ServerConnection } from '@jupyterlab/services';

import {
  isRestarting,
  LabdeckRequestError,
  requestAPI,
  requestAPIResponse,
  RESTARTING_MESSAGE
} from '../request';
import { DeploymentsAPI } from '../deployments/api';
import { SparkAPI } from '../spark/api';

function jsonResponse(
  status: number,
  body: unknown,
  statusText = ''
): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    statusText,
    headers: { 'Content-Type': 'application/json' }
  });
}

/** The error a request failed with (fails the test if it succeeded). */
async function failure(
  promise: Promise<unknown>
): Promise<LabdeckRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LabdeckRequestError);
    return error as LabdeckRequestError;
  }
  throw new Error('The request did not fail.');
}

/** Alice's lab server; every request goes through a spy on `makeRequest`. */
const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost/user/alice/'
});
let makeRequest: jest.SpyInstance;

beforeEach(() => {
  makeRequest = jest.spyOn(ServerConnection, 'makeRequest');
});

afterEach(() => {
  makeRequest.mockRestore();
});

describe('requestAPI', () => {
  it('calls <baseUrl>labdeck/api/v1/<endPoint> and returns the JSON body', async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(200, { name: 'alice', admin: false, groups: [] })
    );
    const me = await requestAPI('me', {}, { settings });
    expect(me).toEqual({ name: 'alice', admin: false, groups: [] });
    expect(makeRequest).toHaveBeenCalledWith(
      'http://localhost/user/alice/labdeck/api/v1/me',
      {},
      settings
    );
  });

  it('calls another namespace of the server when asked', async () => {
    makeRequest.mockResolvedValue(jsonResponse(200, { cluster: null }));
    await requestAPI('connect', {}, { namespace: 'labdeck/spark', settings });
    expect(makeRequest.mock.calls[0][0]).toBe(
      'http://localhost/user/alice/labdeck/spark/connect'
    );
  });

  it('returns the raw response of any namespace', async () => {
    makeRequest.mockResolvedValue(new Response('a,b\n1,2\n', { status: 200 }));
    const response = await requestAPIResponse(
      'admin/usage.csv',
      {},
      { settings }
    );
    expect(await response.text()).toBe('a,b\n1,2\n');
    expect(makeRequest.mock.calls[0][0]).toBe(
      'http://localhost/user/alice/labdeck/api/v1/admin/usage.csv'
    );
  });

  it('passes the request options through', async () => {
    makeRequest.mockResolvedValue(jsonResponse(201, { id: 'c1' }));
    const init = { method: 'POST', body: JSON.stringify({ workers: 2 }) };
    await requestAPI('clusters', init, { settings });
    expect(makeRequest.mock.calls[0][1]).toBe(init);
  });

  it('returns undefined for an empty body (204)', async () => {
    makeRequest.mockResolvedValue(new Response(null, { status: 204 }));
    await expect(
      requestAPI('clusters/c1', { method: 'DELETE' }, { settings })
    ).resolves.toBeUndefined();
  });

  it("turns an error body into the server's message, status and code", async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(403, {
        error: 'quota_exceeded',
        message: 'GPU time used up for today: 4 h of 4 h.'
      })
    );
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(error).toBeInstanceOf(LabdeckRequestError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('GPU time used up for today: 4 h of 4 h.');
    expect(error.status).toBe(403);
    expect(error.code).toBe('quota_exceeded');
  });

  it('falls back to the HTTP status when the error body is not JSON', async () => {
    makeRequest.mockResolvedValue(
      new Response('<html>Internal Server Error</html>', {
        status: 500,
        statusText: 'Internal Server Error'
      })
    );
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(error).toBeInstanceOf(LabdeckRequestError);
    expect(error.message).toBe(
      'The labdeck server answered 500 Internal Server Error.'
    );
    expect(error.status).toBe(500);
    expect(error.code).toBe('http_500');
  });

  it('says the control plane is restarting when the lab server says so, with when to retry', async () => {
    makeRequest.mockResolvedValue(
      new Response(
        JSON.stringify({ error: 'service_restarting', message: 'Restarting.' }),
        {
          status: 503,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '3' }
        }
      )
    );
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(isRestarting(error)).toBe(true);
    expect(error.message).toBe(RESTARTING_MESSAGE);
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(3);
  });

  it.each([502, 503, 504])(
    "reads a gateway's HTML %i page (the hub's) as the control plane restarting",
    async status => {
      makeRequest.mockResolvedValue(
        new Response('<!DOCTYPE html><html><h1>503 Service Unavailable</h1>', {
          status,
          headers: { 'Content-Type': 'text/html' }
        })
      );
      const error = await failure(requestAPI('me', {}, { settings }));
      expect(isRestarting(error)).toBe(true);
      expect(error.message).toBe(
        "labdeck's control plane is restarting. This page retries on its own; " +
          'your lab and files are not affected.'
      );
      expect(error.retryAfterSeconds).toBeNull();
    }
  );

  it('keeps a gateway error that explains itself', async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(502, {
        error: 'service_unavailable',
        message: 'labdeck is not configured on this server (no service URL).'
      })
    );
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(isRestarting(error)).toBe(false);
    expect(error.message).toBe(
      'labdeck is not configured on this server (no service URL).'
    );
  });

  it('reports a network error readably', async () => {
    makeRequest.mockRejectedValue(
      new ServerConnection.NetworkError(new TypeError('Failed to fetch'))
    );
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(error).toBeInstanceOf(LabdeckRequestError);
    expect(error.status).toBe(0);
    expect(error.code).toBe('network_error');
    expect(error.message).toContain('Cannot reach the labdeck server');
    expect(error.message).toContain('Failed to fetch');
  });

  it('rejects a 200 answer that is not JSON', async () => {
    makeRequest.mockResolvedValue(new Response('not json', { status: 200 }));
    const error = await failure(requestAPI('me', {}, { settings }));
    expect(error).toBeInstanceOf(LabdeckRequestError);
    expect(error.code).toBe('invalid_response');
  });
});

describe('SparkAPI', () => {
  it('lists clusters in the labdeck API and connects through the lab server', async () => {
    makeRequest.mockImplementation(() =>
      Promise.resolve(jsonResponse(200, []))
    );
    const api = new SparkAPI(settings);
    await api.list();
    await api.connection();
    await api.connect('c-1');
    expect(makeRequest.mock.calls.map(call => call[0])).toEqual([
      'http://localhost/user/alice/labdeck/api/v1/clusters',
      'http://localhost/user/alice/labdeck/spark/connect',
      'http://localhost/user/alice/labdeck/spark/connect'
    ]);
    expect(makeRequest.mock.calls[2][1]).toEqual({
      method: 'POST',
      body: JSON.stringify({ cluster_id: 'c-1' })
    });
  });

  it("turns the lab server's refusal into its message and code", async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(409, {
        error: 'not_running',
        message: 'Cluster etl is starting: connect when it runs.'
      })
    );
    const error = await failure(new SparkAPI(settings).connect('c-1'));
    expect(error.message).toBe(
      'Cluster etl is starting: connect when it runs.'
    );
    expect(error.status).toBe(409);
    expect(error.code).toBe('not_running');
  });
});

describe('DeploymentsAPI', () => {
  const echo = { user: 'alice', name: 'echo' };
  const base = 'http://localhost/user/alice/labdeck/api/v1/';

  it('manages deployments by name, saying whose', async () => {
    makeRequest.mockImplementation(() =>
      Promise.resolve(jsonResponse(200, {}))
    );
    const api = new DeploymentsAPI(settings);
    await api.list();
    await api.create({
      name: 'echo',
      model_dir: 'models/echo',
      mode: 'realtime',
      replicas: 1,
      max_concurrency: 20,
      memory_mb: 2048,
      access: 'private'
    });
    await api.update(echo, { replicas: 2 });
    await api.remove(echo);
    await api.newKey(echo);
    await api.metrics(echo, 60);
    await api.recommend(echo, {
      payload: {},
      duration_seconds: 10,
      candidates: [{ replicas: 1 }],
      latency_target_ms: 5
    });
    await api.recommendation(echo);
    expect(
      makeRequest.mock.calls.map(call => [call[1].method ?? 'GET', call[0]])
    ).toEqual([
      ['GET', `${base}deployments`],
      ['POST', `${base}deployments`],
      ['PUT', `${base}deployments/echo?user=alice`],
      ['DELETE', `${base}deployments/echo?user=alice`],
      ['POST', `${base}deployments/echo/key?user=alice`],
      ['GET', `${base}deployments/echo/metrics?user=alice&since=60`],
      ['POST', `${base}deployments/echo/recommendations?user=alice`],
      ['GET', `${base}deployments/echo/recommendations?user=alice`]
    ]);
    expect(makeRequest.mock.calls[2][1].body).toBe('{"replicas":2}');
  });

  it('has no recommendation before one is asked for', async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(404, {
        error: 'not_found',
        message: "No recommendation was asked for 'echo'."
      })
    );
    expect(await new DeploymentsAPI(settings).recommendation(echo)).toBeNull();
  });

  it('calls the endpoint and returns its answer, an error one too', async () => {
    makeRequest.mockResolvedValue(
      jsonResponse(
        429,
        { error: 'too_many_requests', message: 'Busy.' },
        'Too Many Requests'
      )
    );
    const result = await new DeploymentsAPI(settings).invoke(echo, '{"a": 1}');
    expect(makeRequest.mock.calls[0][0]).toBe(
      `${base}endpoints/alice/echo/invocations`
    );
    expect(makeRequest.mock.calls[0][1]).toEqual({
      method: 'POST',
      body: '{"a": 1}',
      headers: { 'Content-Type': 'application/json' }
    });
    expect(result).toEqual({
      status: 429,
      statusText: 'Too Many Requests',
      contentType: 'application/json',
      body: '{"error":"too_many_requests","message":"Busy."}',
      latencyMs: expect.any(Number)
    });
  });
});
