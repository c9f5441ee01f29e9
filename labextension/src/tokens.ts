/**
 * Constants and interfaces shared by every part of the labdeck extension.
 *
 * This module is free of side effects: it only declares values and types,
 * so tests and other modules can import it without pulling in JupyterLab.
 */

/** The npm / labextension name, also the prefix of every plugin id. */
export const EXTENSION_NAME = 'labdeck';

/** Plugin ids, `'<labextension name>:<plugin>'`. */
export const PLUGIN_IDS = {
  sidebar: 'labdeck:sidebar',
  status: 'labdeck:status'
} as const;

/** Command ids. */
export namespace CommandIDs {
  /** Open (and activate) the labdeck sidebar. */
  export const openSidebar = 'labdeck:open-sidebar';
  /** Fetch `me` again right now. */
  export const refresh = 'labdeck:refresh';
}

/** DOM id of the sidebar widget (also used by the layout restorer). */
export const SIDEBAR_ID = 'labdeck-sidebar';

/** Status bar item id. */
export const STATUS_ITEM_ID = 'labdeck:status';

/**
 * Where the user's Jupyter server exposes the labdeck API, relative to the
 * server's base URL: `<baseUrl>labdeck/api/v1/...`.
 */
export const API_NAMESPACE = 'labdeck/api/v1';

/** Default and lowest accepted period between two fetches of `me`. */
export const DEFAULT_REFRESH_INTERVAL_SECONDS = 30;
export const MIN_REFRESH_INTERVAL_SECONDS = 5;

/** Longest wait between two fetches while the server keeps failing. */
export const MAX_BACKOFF_SECONDS = 300;

/**
 * The running lab session of the user, as the control plane sees it.
 *
 * Times are ISO 8601 strings with a time zone (e.g. `2025-01-01T14:00:00Z`);
 * `deadline` is `null` when the session has no time limit.
 */
export interface ISessionInfo {
  /** Name of the runtime profile (e.g. `cpu`, `gpu`). */
  profile: string;
  /** When the session started. */
  started: string;
  /** When the session will be stopped, or `null` without a limit. */
  deadline: string | null;
  /** Number of GPUs assigned to the session. */
  gpus: number;
}

/** Persistent storage of the user's home folder. */
export interface IStorageInfo {
  used_bytes: number;
  /** `null` when storage is not limited. */
  limit_bytes: number | null;
}

/**
 * Amounts per resource (e.g. `cpu_seconds`, `gpu_seconds`), used for both
 * quotas and usage. Later work will narrow this to named fields.
 */
export interface IResourceAmounts {
  [resource: string]: number | null | undefined;
}

/** Answer of `GET labdeck/api/v1/me`. */
export interface IMe {
  /** JupyterHub user name. */
  name: string;
  /** Whether the user is a JupyterHub admin. */
  admin: boolean;
  /** JupyterHub groups the user belongs to. */
  groups: string[];
  /** Quota limits per resource, if the server reports them. */
  quota?: IResourceAmounts;
  /** Usage per resource in the current accounting period. */
  usage?: IResourceAmounts;
  /** Current session, `null` when none is running. */
  session?: ISessionInfo | null;
  /** Home folder storage. */
  storage?: IStorageInfo;
}

/** Shape of every error the labdeck API returns (4xx/5xx). */
export interface IApiErrorBody {
  /** Machine-readable code, e.g. `quota_exceeded`. */
  error: string;
  /** A sentence a student understands. */
  message: string;
}
