import {
  ReactWidget,
  ToolbarButtonComponent,
  UseSignal,
  caretDownIcon,
  caretRightIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes, formatCountdown, usedFraction } from './format';
import { useNow } from './hooks';
import { labdeckIcon } from './icon';
import { LabdeckModel } from './model';
import { LabdeckRequestError } from './request';
import {
  IMe,
  IResourceAmounts,
  ISessionInfo,
  IStorageInfo,
  SIDEBAR_ID
} from './tokens';

/**
 * The labdeck sidebar: Session, Spark clusters, Training jobs, Deployments.
 *
 * It renders from the shared {@link LabdeckModel}; it never fetches on its
 * own except through the model (Refresh button, or when shown).
 */
export class LabdeckSidebar extends ReactWidget {
  constructor(model: LabdeckModel) {
    super();
    this._model = model;
    this.id = SIDEBAR_ID;
    this.title.icon = labdeckIcon;
    this.title.caption = 'labdeck';
    this.addClass('jp-labdeck-sidebar');
  }

  /** The model the sidebar shows. */
  get model(): LabdeckModel {
    return this._model;
  }

  /** Catch up when shown if the data is older than one refresh period. */
  protected onAfterShow(): void {
    const { lastUpdated, refreshIntervalSeconds } = this._model;
    if (
      lastUpdated !== null &&
      Date.now() - lastUpdated > refreshIntervalSeconds * 1000
    ) {
      void this._model.refresh();
    }
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed} initialSender={this._model}>
        {model => <SidebarContent model={model ?? this._model} />}
      </UseSignal>
    );
  }

  private _model: LabdeckModel;
}

/** Props of the sidebar content. */
interface ISidebarContentProps {
  model: LabdeckModel;
}

function SidebarContent({ model }: ISidebarContentProps): JSX.Element {
  return (
    <div className="jp-labdeck-sidebar-content" data-testid="labdeck-sidebar">
      <header className="jp-labdeck-header">
        <h2 className="jp-labdeck-title">labdeck</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh"
          label=""
          enabled={!model.loading}
          dataset={{ 'data-testid': 'labdeck-refresh' }}
          onClick={() => void model.refresh()}
        />
      </header>
      <Section title="Session" testId="labdeck-section-session">
        <SessionPanel
          me={model.me}
          error={model.error}
          loading={model.loading}
        />
      </Section>
      <Section title="Spark clusters" testId="labdeck-section-spark">
        <ComingSoon>
          Create Spark clusters and connect notebooks to them from here — coming
          soon.
        </ComingSoon>
      </Section>
      <Section title="Training jobs" testId="labdeck-section-jobs">
        <ComingSoon>
          Start training jobs that keep running after you close the browser, and
          follow their logs and metrics — coming soon.
        </ComingSoon>
      </Section>
      <Section title="Deployments" testId="labdeck-section-deployments">
        <ComingSoon>
          Serve your models behind an endpoint and watch their traffic — coming
          soon.
        </ComingSoon>
      </Section>
    </div>
  );
}

/** Props of a collapsible section. */
interface ISectionProps {
  title: string;
  testId: string;
  initiallyOpen?: boolean;
  children?: React.ReactNode;
}

/** A section with a clickable header that folds its body. */
export function Section({
  title,
  testId,
  initiallyOpen = true,
  children
}: ISectionProps): JSX.Element {
  const [open, setOpen] = React.useState(initiallyOpen);
  const bodyId = `${testId}-body`;
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <section
      className={`jp-labdeck-section${open ? '' : ' jp-mod-collapsed'}`}
      data-testid={testId}
    >
      <button
        type="button"
        className="jp-labdeck-section-header"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen(!open)}
      >
        <Caret.react tag="span" className="jp-labdeck-section-caret" />
        <span className="jp-labdeck-section-title">{title}</span>
      </button>
      <div className="jp-labdeck-section-body" id={bodyId} hidden={!open}>
        {children}
      </div>
    </section>
  );
}

function ComingSoon({ children }: { children?: React.ReactNode }): JSX.Element {
  return <p className="jp-labdeck-coming-soon">{children}</p>;
}

/** Props of the Session section. */
interface ISessionPanelProps {
  me: IMe | null;
  error: LabdeckRequestError | null;
  loading: boolean;
}

/**
 * Session section: who the user is, the running session, usage and storage.
 * Each part is its own component so later work can grow them separately.
 */
export function SessionPanel({
  me,
  error,
  loading
}: ISessionPanelProps): JSX.Element {
  return (
    <div className="jp-labdeck-session">
      {error && <ErrorMessage error={error} />}
      {me === null ? (
        loading && (
          <p className="jp-labdeck-loading" data-testid="labdeck-loading">
            Loading…
          </p>
        )
      ) : (
        <>
          <UserSummary me={me} />
          <SessionInfo session={me.session} />
          <UsageSummary usage={me.usage} quota={me.quota} />
          {me.storage && <StorageBar storage={me.storage} />}
        </>
      )}
    </div>
  );
}

function ErrorMessage({ error }: { error: LabdeckRequestError }): JSX.Element {
  return (
    <div
      className="jp-labdeck-error"
      role="alert"
      data-testid="labdeck-error"
      data-code={error.code}
    >
      {error.message}
    </div>
  );
}

/** User name, admin badge and groups. */
export function UserSummary({ me }: { me: IMe }): JSX.Element {
  return (
    <div className="jp-labdeck-user">
      <div className="jp-labdeck-user-line">
        <span className="jp-labdeck-user-name" data-testid="labdeck-user-name">
          {me.name}
        </span>
        {me.admin && (
          <span className="jp-labdeck-badge" data-testid="labdeck-admin-badge">
            admin
          </span>
        )}
      </div>
      {me.groups.length > 0 && (
        <ul className="jp-labdeck-groups" data-testid="labdeck-user-groups">
          {me.groups.map(group => (
            <li key={group} className="jp-labdeck-group">
              {group}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The running session: profile, GPUs, start and remaining time. */
export function SessionInfo({
  session
}: {
  session: ISessionInfo | null | undefined;
}): JSX.Element {
  const deadline = session?.deadline ?? null;
  const now = useNow(deadline !== null);
  if (session === undefined) {
    return (
      <p className="jp-labdeck-muted" data-testid="labdeck-session-info">
        No session data yet.
      </p>
    );
  }
  if (session === null) {
    return (
      <p className="jp-labdeck-muted" data-testid="labdeck-session-info">
        No session running.
      </p>
    );
  }
  const countdown = formatCountdown(deadline, now);
  return (
    <dl className="jp-labdeck-facts" data-testid="labdeck-session-info">
      <dt>Profile</dt>
      <dd data-testid="labdeck-session-profile">{session.profile}</dd>
      <dt>GPUs</dt>
      <dd>{session.gpus}</dd>
      <dt>Started</dt>
      <dd>{formatTime(session.started)}</dd>
      <dt>Time left</dt>
      <dd data-testid="labdeck-session-countdown">{countdown ?? 'no limit'}</dd>
    </dl>
  );
}

/** Usage per resource, as a bar when a quota is known. */
export function UsageSummary({
  usage,
  quota
}: {
  usage?: IResourceAmounts;
  quota?: IResourceAmounts;
}): JSX.Element | null {
  if (!usage) {
    return null;
  }
  const resources = Object.keys(usage).filter(
    key => typeof usage[key] === 'number'
  );
  if (resources.length === 0) {
    return null;
  }
  return (
    <div className="jp-labdeck-usage" data-testid="labdeck-usage">
      {resources.map(resource => {
        const used = usage[resource] as number;
        const limit = quota?.[resource];
        return (
          <Meter
            key={resource}
            label={resource.replace(/_/g, ' ')}
            fraction={usedFraction(used, limit)}
            text={
              typeof limit === 'number' ? `${used} of ${limit}` : String(used)
            }
          />
        );
      })}
    </div>
  );
}

/** Home folder storage, as a bar when limited. */
export function StorageBar({
  storage
}: {
  storage: IStorageInfo;
}): JSX.Element {
  const { used_bytes: used, limit_bytes: limit } = storage;
  const text =
    typeof limit === 'number'
      ? `${formatBytes(used)} of ${formatBytes(limit)}`
      : `${formatBytes(used)} used`;
  return (
    <div className="jp-labdeck-storage" data-testid="labdeck-storage">
      <Meter label="Storage" fraction={usedFraction(used, limit)} text={text} />
    </div>
  );
}

/** A labelled bar; without a fraction only the text is shown. */
function Meter({
  label,
  fraction,
  text
}: {
  label: string;
  fraction: number | null;
  text: string;
}): JSX.Element {
  const percent = fraction === null ? null : Math.round(fraction * 100);
  const level =
    percent === null
      ? ''
      : percent >= 90
        ? ' jp-mod-danger'
        : percent >= 75
          ? ' jp-mod-warn'
          : '';
  return (
    <div className="jp-labdeck-meter">
      <div className="jp-labdeck-meter-label">
        <span>{label}</span>
        <span className="jp-labdeck-meter-text">{text}</span>
      </div>
      {percent !== null && (
        <div
          className={`jp-labdeck-meter-track${level}`}
          role="progressbar"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          <div
            className="jp-labdeck-meter-fill"
            style={{ width: `${percent}%` }}
          />
        </div>
      )}
    </div>
  );
}

/** Local time of an ISO 8601 timestamp, or the raw text if unparsable. */
function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
