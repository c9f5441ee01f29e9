import { PageConfig } from '@jupyterlab/coreutils';
import {
  ReactWidget,
  ToolbarButtonComponent,
  UseSignal,
  caretDownIcon,
  caretRightIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { profileDisplayName } from './format';
import { labdeckIcon } from './icon';
import { LabdeckModel } from './model';
import { SessionPanel } from './session/panel';
import { confirmStopSession, stopSession } from './session/stop';
import { confirmTerminate } from './spark/actions';
import { SparkModel } from './spark/model';
import { ISparkPanelProps, SparkPanel } from './spark/panel';
import { ISessionInfo, SIDEBAR_ID } from './tokens';

/**
 * The labdeck sidebar: Session, Spark clusters, Training jobs, Deployments.
 *
 * It renders from the shared {@link LabdeckModel}; it never fetches on its
 * own except through the model (Refresh button, or when shown).
 */
export class LabdeckSidebar extends ReactWidget {
  constructor(model: LabdeckModel, options: LabdeckSidebar.IOptions = {}) {
    super();
    this._model = model;
    this._onOpenUsageReport = options.onOpenUsageReport;
    this._stop = options.stopSession ?? this._confirmAndStop;
    this._ownsSpark = !options.spark;
    this._spark = options.spark ?? new SparkModel();
    this._sparkProps = {
      model: this._spark,
      hubHost: options.hubHost ?? PageConfig.getOption('hubHost'),
      onNewNotebook: options.onNewPySparkNotebook,
      confirmTerminate: options.confirmTerminate ?? confirmTerminate
    };
    this.id = SIDEBAR_ID;
    this.title.icon = labdeckIcon;
    this.title.caption = 'labdeck';
    this.addClass('jp-labdeck-sidebar');
  }

  /** The model the sidebar shows. */
  get model(): LabdeckModel {
    return this._model;
  }

  /** The Spark clusters section's model. */
  get spark(): SparkModel {
    return this._spark;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this._ownsSpark) {
      this._spark.dispose();
    }
    super.dispose();
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
        {model => (
          <SidebarContent
            model={model ?? this._model}
            onStop={this._stop}
            onOpenUsageReport={this._onOpenUsageReport}
            spark={this._sparkProps}
          />
        )}
      </UseSignal>
    );
  }

  /** Default stop: confirm, `POST sessions/<id>/stop`, then refresh. */
  private _confirmAndStop = async (session: ISessionInfo): Promise<void> => {
    const name = profileDisplayName(this._model.me?.profiles, session.profile);
    if (!(await confirmStopSession(name))) {
      return;
    }
    await stopSession(session.id);
    await this._model.refresh();
  };

  private _model: LabdeckModel;
  private _onOpenUsageReport?: () => void;
  private _ownsSpark: boolean;
  private _spark: SparkModel;
  private _sparkProps: Omit<ISparkPanelProps, 'me'>;
  private _stop: (session: ISessionInfo) => Promise<void>;
}

/** Statics of {@link LabdeckSidebar}. */
export namespace LabdeckSidebar {
  export interface IOptions {
    /** Open the admin usage report (its button shows for admins only). */
    onOpenUsageReport?: () => void;
    /**
     * Stop a session; defaults to a confirmation dialog and
     * `POST sessions/<id>/stop`. Rejects with a readable error.
     */
    stopSession?: (session: ISessionInfo) => Promise<void>;
    /**
     * The Spark clusters model (polled by its owner); without one the
     * sidebar makes its own, which only fetches when started.
     */
    spark?: SparkModel;
    /** Open a new PySpark notebook (the button shows once connected). */
    onNewPySparkNotebook?: () => Promise<void>;
    /** Confirm terminating a cluster; defaults to a dialog. */
    confirmTerminate?: ISparkPanelProps['confirmTerminate'];
    /** Host of the hub for the Spark UI; defaults to the page's `hubHost`. */
    hubHost?: string;
  }
}

/** Props of the sidebar content. */
interface ISidebarContentProps {
  model: LabdeckModel;
  onStop: (session: ISessionInfo) => Promise<void>;
  onOpenUsageReport?: () => void;
  spark: Omit<ISparkPanelProps, 'me'>;
}

function SidebarContent({
  model,
  onStop,
  onOpenUsageReport,
  spark
}: ISidebarContentProps): JSX.Element {
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
          onClick={() => {
            void model.refresh();
            void spark.model.refresh();
          }}
        />
      </header>
      <Section title="Session" testId="labdeck-section-session">
        <SessionPanel
          me={model.me}
          error={model.error}
          loading={model.loading}
          onStop={onStop}
          onOpenUsageReport={onOpenUsageReport}
        />
      </Section>
      <Section title="Spark clusters" testId="labdeck-section-spark">
        <SparkPanel {...spark} me={model.me} />
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
