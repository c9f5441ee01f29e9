import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { labdeckIcon } from './icon';

/**
 * Options of {@link registerResourceTabs}. `R` is what names a resource
 * (a job's id, a deployment's user and name), `T` the content of its tab.
 */
export interface IResourceTabsOptions<R, T extends Widget> {
  /** The layout restorer's namespace of the tabs. */
  namespace: string;
  /** The command that opens a resource in a tab, or shows its tab. */
  command: string;
  /** The command's label and caption. */
  label: string;
  caption: string;
  /** The resource the command's arguments name, `null` when they name none. */
  fromArgs: (args: ReadonlyPartialJSONObject) => R | null;
  /** The command's arguments naming the resource (kept to restore a tab). */
  toArgs: (ref: R) => ReadonlyPartialJSONObject;
  /** The resource a tab's content shows. */
  shownIn: (content: T) => R;
  /** What tells resources apart; also the name a tab is restored by. */
  key: (ref: R) => string;
  /** A new tab for the resource. */
  create: (ref: R) => MainAreaWidget<T>;
}

/**
 * A tab per opened resource (a job, a deployment): the command that opens
 * one (showing the tab it already has, if any), and the tabs open before
 * a reload coming back. Returns a function that opens a resource's tab
 * through the command.
 */
export function registerResourceTabs<R, T extends Widget>(
  app: JupyterFrontEnd,
  restorer: ILayoutRestorer | null,
  options: IResourceTabsOptions<R, T>
): (ref: R) => void {
  const { namespace, command, fromArgs, toArgs, shownIn, key, create } =
    options;
  const tracker = new WidgetTracker<MainAreaWidget<T>>({ namespace });
  app.commands.addCommand(command, {
    label: options.label,
    caption: options.caption,
    icon: labdeckIcon,
    execute: args => {
      const ref = fromArgs(args);
      if (!ref) {
        return;
      }
      const wanted = key(ref);
      let tab = tracker.find(widget => key(shownIn(widget.content)) === wanted);
      if (!tab) {
        tab = create(ref);
        void tracker.add(tab);
        app.shell.add(tab, 'main');
      }
      app.shell.activateById(tab.id);
      return tab;
    }
  });
  if (restorer) {
    void restorer.restore(tracker, {
      command,
      args: widget => toArgs(shownIn(widget.content)),
      name: widget => key(shownIn(widget.content))
    });
  }
  return ref => void app.commands.execute(command, toArgs(ref));
}

/**
 * A tab for the main area showing `content`, with the labdeck icon; it
 * can be closed.
 */
export function resourceTab<T extends Widget>(
  content: T,
  { id, label, caption }: { id: string; label: string; caption: string }
): MainAreaWidget<T> {
  content.title.icon = labdeckIcon;
  content.title.caption = caption;
  content.title.label = label;
  const tab = new MainAreaWidget({ content });
  tab.id = id;
  tab.title.closable = true;
  return tab;
}

/** The content of a resource's tab: a component and its props. */
export class TabContent<P extends object> extends ReactWidget {
  constructor(
    private readonly _component: React.FunctionComponent<P>,
    readonly props: P
  ) {
    super();
    this.addClass('jp-labdeck-job-view-widget');
  }

  protected render(): JSX.Element {
    return React.createElement(this._component, this.props);
  }
}
