import {
  ReactWidget,
  ToolbarButtonComponent,
  UseSignal,
  caretDownIcon,
  caretRightIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { labdeckIcon } from './icon';
import { LabdeckModel } from './model';
import { ILabdeckSidebarSections, ISidebarSection, SIDEBAR_ID } from './tokens';

/**
 * The labdeck sidebar: the sections registered in
 * {@link ILabdeckSidebarSections} (Session, Spark clusters, Training jobs,
 * Deployments), by rank, each in a collapsible {@link Section}.
 *
 * It renders from the shared {@link LabdeckModel} and the sections' own
 * models; it never fetches on its own except through them (Refresh
 * button, or when shown).
 */
export class LabdeckSidebar extends ReactWidget {
  constructor(model: LabdeckModel, sections: ILabdeckSidebarSections) {
    super();
    this._model = model;
    this._sections = sections;
    this.id = SIDEBAR_ID;
    this.title.icon = labdeckIcon;
    this.title.caption = 'labdeck';
    this.addClass('jp-labdeck-sidebar');
  }

  /** The model the sidebar shows. */
  get model(): LabdeckModel {
    return this._model;
  }

  /** Fetch `me` and every section's data again (never rejects). */
  async refresh(): Promise<void> {
    await Promise.all([
      this._model.refresh(),
      ...this._sections.sections.map(section => section.refresh?.())
    ]);
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
      <UseSignal signal={this._sections.changed}>
        {() => (
          <UseSignal signal={this._model.changed} initialSender={this._model}>
            {() => (
              <SidebarContent
                model={this._model}
                sections={this._sections.sections}
                onRefresh={() => void this.refresh()}
              />
            )}
          </UseSignal>
        )}
      </UseSignal>
    );
  }

  private _model: LabdeckModel;
  private _sections: ILabdeckSidebarSections;
}

/** Props of the sidebar content. */
interface ISidebarContentProps {
  model: LabdeckModel;
  sections: readonly ISidebarSection[];
  onRefresh: () => void;
}

function SidebarContent({
  model,
  sections,
  onRefresh
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
          onClick={onRefresh}
        />
      </header>
      {sections.map(section => (
        <Section
          key={section.id}
          title={section.title}
          testId={`labdeck-section-${section.id}`}
        >
          {section.render(model.me)}
        </Section>
      ))}
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
