import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE } from './tokens';

/**
 * An error from the labdeck API, or from reaching it.
 *
 * `message` is the server's own sentence when it sent one, so it can be shown
 * to the user as is.
 */
export class LabdeckRequestError extends Error {
  /**
   * @param message - Readable sentence.
   * @param status - HTTP status, `0` when the server could not be reached.
   * @param code - The server's machine code (`error` field), or a local one:
   *   `network_error`, `invalid_response`, `http_<status>`.
   * @param retryAfterSeconds - When the server said to try again (its
   *   `Retry-After` header), or `null`.
   */
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly retryAfterSeconds: number | null = null
  ) {
    super(message);
    this.name = 'LabdeckRequestError';
  }
}

/** Code of the answer while labdeck's service is down (it restarts by itself). */
export const SERVICE_RESTARTING = 'service_restarting';

/** What the lab says while labdeck's service restarts. */
export const RESTARTING_MESSAGE =
  "labdeck's control plane is restarting. This page retries on its own; " +
  'your lab and files are not affected.';

/** Whether an error only means labdeck's service is restarting (retry soon). */
export function isRestarting(error: unknown): error is LabdeckRequestError {
  return (
    error instanceof LabdeckRequestError && error.code === SERVICE_RESTARTING
  );
}

/** Where a request goes, and with which credentials. */
export interface IRequestOptions {
  /**
   * Path of the API below the server's base URL; defaults to
   * {@link API_NAMESPACE}. The lab server's own labdeck endpoints live
   * elsewhere (e.g. `labdeck/spark`) and are called the same way.
   */
  namespace?: string;
  /** Server settings; defaults to the page's own. */
  settings?: ServerConnection.ISettings;
  /**
   * Return any answer, whatever its status, instead of throwing on a
   * non-2xx one: for answers shown as they are (a model endpoint's own
   * error). Only failing to reach the server still throws.
   */
  anyStatus?: boolean;
}

/**
 * Call a labdeck API of the user's Jupyter server and return the raw
 * answer (for non-JSON answers such as the CSV usage report).
 *
 * @param endPoint - Path below the namespace, with its query if any.
 * @param init - Fetch options (method, body...).
 * @param options - Namespace and server settings.
 * @returns The successful (2xx) response, body unread (any response with
 *   `anyStatus`).
 * @throws {LabdeckRequestError} on network errors and non-2xx answers, with
 *   the server's `message` when the error body has one.
 */
export async function requestAPIResponse(
  endPoint = '',
  init: RequestInit = {},
  options: IRequestOptions = {}
): Promise<Response> {
  const {
    namespace = API_NAMESPACE,
    settings = ServerConnection.makeSettings(),
    anyStatus = false
  } = options;
  const url = URLExt.join(settings.baseUrl, namespace, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LabdeckRequestError(
      `Cannot reach the labdeck server (${reason}). Check your connection and try again.`,
      0,
      'network_error'
    );
  }

  if (!response.ok && !anyStatus) {
    const body = Private.errorBody(Private.parse(await response.text()));
    const retryAfter = Private.retryAfter(response.headers.get('Retry-After'));
    if (
      body.error === SERVICE_RESTARTING ||
      (Private.GATEWAY_STATUSES.has(response.status) &&
        body.message === undefined)
    ) {
      // labdeck's answer while its service is down, or a gateway's page (the
      // hub's HTML "503") in its place: the same passing state either way
      throw new LabdeckRequestError(
        RESTARTING_MESSAGE,
        response.status,
        SERVICE_RESTARTING,
        retryAfter
      );
    }
    const fallback = `The labdeck server answered ${response.status}${
      response.statusText ? ` ${response.statusText}` : ''
    }.`;
    throw new LabdeckRequestError(
      body.message ?? fallback,
      response.status,
      body.error ?? `http_${response.status}`,
      retryAfter
    );
  }
  return response;
}

/**
 * Call a labdeck API of the user's Jupyter server.
 *
 * @param endPoint - Path below the namespace, e.g. `'me'`.
 * @param init - Fetch options (method, body...).
 * @param options - Namespace (default `labdeck/api/v1`) and server settings.
 * @returns The decoded JSON body (`undefined` for an empty body, e.g. 204).
 * @throws {LabdeckRequestError} on network errors, non-2xx answers or
 *   bodies that are not JSON.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  options: IRequestOptions = {}
): Promise<T> {
  const response = await requestAPIResponse(endPoint, init, options);
  const text = await response.text();
  if (text.length === 0) {
    return undefined as T;
  }
  const data = Private.parse(text);
  if (data === Private.NOT_JSON) {
    throw new LabdeckRequestError(
      'The labdeck server sent an answer that is not JSON.',
      response.status,
      'invalid_response'
    );
  }
  return data as T;
}

namespace Private {
  /** Marker of a body that is not JSON. */
  export const NOT_JSON = Symbol('not JSON');

  /** Statuses of a proxy whose upstream is down or starting. */
  export const GATEWAY_STATUSES = new Set([502, 503, 504]);

  /** Seconds of a `Retry-After` header (a number of seconds or a date). */
  export function retryAfter(header: string | null): number | null {
    if (header === null || header.trim() === '') {
      return null;
    }
    const seconds = Number(header);
    if (Number.isFinite(seconds)) {
      return Math.max(0, seconds);
    }
    const at = Date.parse(header);
    return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
  }

  /** Decode a JSON text; `undefined` when empty, `NOT_JSON` when invalid. */
  export function parse(text: string): unknown {
    if (text.length === 0) {
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      return NOT_JSON;
    }
  }

  /** Pick `error` and `message` out of a decoded error body, if present. */
  export function errorBody(data: unknown): {
    error?: string;
    message?: string;
  } {
    if (typeof data !== 'object' || data === null) {
      return {};
    }
    const record = data as Record<string, unknown>;
    return {
      error: typeof record.error === 'string' ? record.error : undefined,
      message:
        typeof record.message === 'string' && record.message.length > 0
          ? record.message
          : undefined
    };
  }
}

/** Any failure as a LabdeckRequestError (network errors and bugs included). */
export function asRequestError(reason: unknown): LabdeckRequestError {
  return reason instanceof LabdeckRequestError
    ? reason
    : new LabdeckRequestError(
        reason instanceof Error ? reason.message : String(reason),
        0,
        'unknown_error'
      );
}
