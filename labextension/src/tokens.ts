/**
 * Constants and interfaces shared by every part of the labdeck extension.
 *
 * This module is free of side effects: it only declares values, types and
 * lumino tokens, so tests and other modules can import it without pulling
 * in JupyterLab.
 */

import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { ReactElement } from 'react';

/** The npm / labextension name, also the prefix of every plugin id. */
export const EXTENSION_NAME = 'labdeck';

/** Plugin ids, `'<labextension name>:<plugin>'`. */
export const PLUGIN_IDS = {
  sidebar: 'labdeck:sidebar',
  sidebarSections: 'labdeck:sidebar-sections',
  session: 'labdeck:session',
  spark: 'labdeck:spark',
  jobs: 'labdeck:jobs',
  deployments: 'labdeck:deployments',
  status: 'labdeck:status',
  notifications: 'labdeck:notifications',
  usageReport: 'labdeck:usage-report'
} as const;

/** Command ids. */
export namespace CommandIDs {
  /** Open (and activate) the labdeck sidebar. */
  export const openSidebar = 'labdeck:open-sidebar';
  /** Fetch `me` again right now. */
  export const refresh = 'labdeck:refresh';
  /** Open the usage report in the main area (admins only). */
  export const openUsageReport = 'labdeck:open-usage-report';
}

/** DOM id of the sidebar widget (also used by the layout restorer). */
export const SIDEBAR_ID = 'labdeck-sidebar';

/**
 * Ranks of the sidebar sections, lowest first: Session, Spark clusters,
 * Training jobs, Deployments. The gaps leave room for sections in between.
 */
export const SECTION_RANKS = {
  session: 100,
  spark: 200,
  jobs: 300,
  deployments: 400
} as const;

/**
 * A section of the labdeck sidebar. Each capability (session, Spark
 * clusters, training jobs...) is its own plugin that adds its section, so
 * a new capability does not edit the sidebar.
 */
export interface ISidebarSection {
  /**
   * Short unique name, e.g. `spark`; the section's `data-testid` is
   * `labdeck-section-<id>`.
   */
  id: string;
  /** Header text, e.g. `Spark clusters`. */
  title: string;
  /** Place in the sidebar, lowest first (see {@link SECTION_RANKS}). */
  rank: number;
  /**
   * The section's body. Called again whenever `me` changes; a section
   * with data of its own re-renders itself when that data changes (e.g.
   * with `UseSignal` on its model).
   */
  render(me: IMe | null): ReactElement;
  /** Fetch the section's data again (the sidebar's Refresh button). */
  refresh?(): Promise<void>;
}

/** The sections the labdeck sidebar shows, like JupyterLab's `IRunningSessionManagers`. */
export interface ILabdeckSidebarSections {
  /**
   * Add a section; disposing the result removes it.
   *
   * @throws {Error} if a section with the same id is already there.
   */
  add(section: ISidebarSection): IDisposable;
  /** The sections, by rank (equal ranks in the order they were added). */
  readonly sections: readonly ISidebarSection[];
  /** Emitted when a section is added or removed. */
  readonly changed: ISignal<ILabdeckSidebarSections, void>;
}

/** Token of the sidebar's section registry (`labdeck:sidebar-sections`). */
export const ILabdeckSidebarSections = new Token<ILabdeckSidebarSections>(
  'labdeck:ILabdeckSidebarSections',
  'The sections of the labdeck sidebar: each capability adds its own.'
);

/** Status bar item id. */
export const STATUS_ITEM_ID = 'labdeck:status';

/** DOM id of the usage report main-area widget. */
export const USAGE_REPORT_ID = 'labdeck-usage-report';

/** Default warning thresholds when the server does not send any (15, 5 min). */
export const DEFAULT_WARN_BEFORE_SECONDS: readonly number[] = [900, 300];

/** Days covered by the usage report when it opens. */
export const DEFAULT_REPORT_DAYS = 7;

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

/** A runtime the user can start a session with (`me.profiles`). */
export interface IProfile {
  /** Machine name, e.g. `gpu`: the key of `quota` and `usage`. */
  name: string;
  /** Name shown to people, e.g. `GPU`. */
  display_name: string;
  description?: string;
  /** CPU cores, `null` when not limited. */
  cpu_limit?: number | null;
  /** Memory, e.g. `16G`, `null` when not limited. */
  mem_limit?: string | null;
  /** GPUs assigned exclusively to a session of this profile. */
  gpus?: number;
}

/** Time limits of one runtime profile; `null` means unlimited. */
export interface IProfileLimits {
  /** Longest single session. */
  session_seconds?: number | null;
  /** Budget per day (rolling 24 h or fixed reset time, server side). */
  daily_seconds?: number | null;
}

/**
 * Quota: limits per profile name, plus `storage_bytes` (`null` =
 * unlimited). The effective quota of `me` and `GET admin/users/<name>/quota`,
 * and also the partial body of `PUT` (where `null` removes an override).
 * Read profile limits with `profileLimits()` (`format.ts`), which skips
 * `storage_bytes`.
 */
export type Quota = {
  storage_bytes?: number | null;
} & {
  [profile: string]: IProfileLimits | number | null | undefined;
};

/** Usage of one profile in the current budget window. */
export interface IProfileUsage {
  used_seconds: number;
  /** `null` without a daily budget. */
  remaining_seconds: number | null;
  /** When used time starts to come back (ISO 8601), `null` if nothing to renew. */
  resets_at: string | null;
  /** Seconds an admin granted for today only (counted in `remaining_seconds`). */
  granted_seconds?: number;
}

/** An admin's one-off grant of time for today, as `me.grants_today` lists it. */
export interface IGrantToday {
  profile: string;
  seconds: number;
  note: string;
  granted_by: string;
}

/** A one-off time grant (`admin/users/<name>/grants`). */
export interface ITimeGrant extends IGrantToday {
  id: number;
  user: string;
  /** The budget day it adds to (`YYYY-MM-DD`). */
  date: string;
  /** When it was granted (ISO 8601). */
  granted_at: string;
}

/** Usage per profile name. */
export interface IUsageMap {
  [profile: string]: IProfileUsage;
}

/** Why a session has its deadline. */
export type DeadlineReason = 'session_limit' | 'daily_budget';

/**
 * The running lab session of the user, as the control plane sees it.
 *
 * Times are ISO 8601 strings with a time zone (e.g. `2025-01-01T14:00:00Z`);
 * `deadline` is `null` when the session has no time limit.
 */
export interface ISessionInfo {
  /** Ledger id, used by `POST sessions/<id>/stop`. */
  id: number;
  /** Name of the runtime profile (e.g. `cpu`, `gpu`). */
  profile: string;
  /** When the session started. */
  started: string;
  /** When the session will be stopped, or `null` without a limit. */
  deadline: string | null;
  /** Which limit sets the deadline, `null` without one. */
  deadline_reason?: DeadlineReason | null;
  /** Ids of the GPUs assigned to the session (empty without GPUs). */
  gpus: string[];
  /** Its runtime's idle timeout; `null` when it is never stopped for idleness. */
  idle?: IIdleInfo | null;
}

/** A session's idle timeout, as the hub's activity data sets it. */
export interface IIdleInfo {
  /** Stopped after this long without activity. */
  idle_seconds: number;
  /** Last activity the hub reported (ISO 8601), `null` before the first check. */
  last_activity: string | null;
  /** When the session stops unless it is used. */
  stops_at: string;
  /** The warning sentence once given (`null` before, and after new activity). */
  warning: string | null;
  /** When that warning was given. */
  warned_at?: string | null;
}

/** The user's place in the GPU queue. */
export interface IQueueInfo {
  /** 1 is next. */
  position: number;
}

/** Persistent storage of the user's home folder. */
export interface IStorageInfo {
  used_bytes: number;
  /** `null` when storage is not limited. */
  limit_bytes: number | null;
}

/** Answer of `GET labdeck/api/v1/me`. */
export interface IMe {
  /** JupyterHub user name. */
  name: string;
  /** `user`, or `service` for hub services (which have no lab data). */
  kind?: 'user' | 'service';
  /** Whether the user is a JupyterHub admin. */
  admin: boolean;
  /** JupyterHub groups the user belongs to. */
  groups: string[];
  /** Runtimes the user may start. */
  profiles?: IProfile[];
  /** Effective quota. */
  quota?: Quota;
  /** Usage per profile in the current budget window. */
  usage?: IUsageMap;
  /** Current session, `null` when none is running. */
  session?: ISessionInfo | null;
  /** Place in the GPU queue, `null` when not waiting. */
  queue?: IQueueInfo | null;
  /** Home folder storage. */
  storage?: IStorageInfo;
  /** Seconds before the deadline at which the lab warns (e.g. `[900, 300]`). */
  warn_before_seconds?: number[];
  /** Admins' one-off grants of time for today. */
  grants_today?: IGrantToday[];
  /** Per capability (`spark`, ...): its quota section's limits, use and what is left. */
  resources?: { [capability: string]: ICapabilityQuota };
}

/**
 * One capability's quota section in `me.resources`: fields are totals over
 * live resources (`cores`), or a daily budget of core time
 * (`daily_core_seconds`, used in the current window); `null` is unlimited.
 */
export interface ICapabilityQuota {
  limits: { [field: string]: number | null };
  in_use: { [field: string]: number };
  left: { [field: string]: number | null };
  /** When the running resources will have spent the daily core time, or `null`. */
  deadline?: string | null;
  /** When used core time starts to come back, or `null`. */
  resets_at?: string | null;
}

/** What a ledger entry counts: a lab session, a Spark cluster, a training job... */
export type UsageKind = 'session' | 'cluster' | 'job' | 'deployment';

/** One line of the usage report: one user, one kind, one profile. */
export interface IUsageRow {
  user: string;
  groups: string[];
  profile: string;
  kind: UsageKind;
  /** Number of ledger entries (sessions, jobs, clusters...). */
  sessions: number;
  /** Run time within the period. */
  seconds: number;
  /** Run time × GPUs. */
  gpu_seconds: number;
  /** Run time × cores (Spark clusters' core time; 0 for the others). */
  core_seconds: number;
  /** One-off grants whose day begins in the period (on session rows). */
  granted_seconds?: number;
}

/** Totals of one kind in the usage report, in seconds. */
export interface IUsageKindTotals {
  seconds: number;
  gpu_seconds: number;
  core_seconds: number;
}

/** Answer of `GET admin/usage`. */
export interface IUsageReport {
  since: string;
  until: string;
  group: string | null;
  rows: IUsageRow[];
  totals: {
    /** Seconds per profile name. */
    by_profile: { [profile: string]: number };
    /** Seconds per group name. */
    by_group: { [group: string]: number };
    /** Per kind (`session`, `job`, `cluster`...). */
    by_kind?: { [kind: string]: IUsageKindTotals };
    /** One-off grants per profile name, in seconds. */
    granted_by_profile?: { [profile: string]: number };
  };
  /** The one-off grants whose day begins in the period. */
  grants?: ITimeGrant[];
}

/** Query of the usage report. */
export interface IUsageQuery {
  /** ISO 8601 start (inclusive). */
  since: string;
  /** ISO 8601 end (exclusive). */
  until: string;
  /** Only members of this group; empty for everyone. */
  group?: string;
}

/** Shape of every error the labdeck API returns (4xx/5xx). */
export interface IApiErrorBody {
  /** Machine-readable code, e.g. `quota_exceeded`. */
  error: string;
  /** A sentence a student understands. */
  message: string;
}
