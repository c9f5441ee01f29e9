import { TextItem } from '@jupyterlab/statusbar';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatCountdown, formatStatusText } from './format';
import { useNow } from './hooks';
import { LabdeckModel } from './model';

/**
 * Status bar item: `labdeck · <user>`, followed by the session countdown
 * (`HH:MM:SS left`) when the server reports a deadline. Clicking it runs
 * `onClick` (the plugin opens the sidebar).
 */
export class LabdeckStatus extends ReactWidget {
  constructor(options: LabdeckStatus.IOptions) {
    super();
    this._model = options.model;
    this.addClass('jp-labdeck-status');
    // Standard look of clickable status bar items.
    this.addClass('jp-mod-highlighted');
    this.node.dataset.testid = 'labdeck-status';
    if (options.onClick) {
      const onClick = options.onClick;
      this.node.addEventListener('click', () => onClick());
    }
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed} initialSender={this._model}>
        {model => <StatusText model={model ?? this._model} />}
      </UseSignal>
    );
  }

  private _model: LabdeckModel;
}

/** Statics of {@link LabdeckStatus}. */
export namespace LabdeckStatus {
  export interface IOptions {
    model: LabdeckModel;
    /** Called when the item is clicked. */
    onClick?: () => void;
  }
}

function StatusText({ model }: { model: LabdeckModel }): JSX.Element {
  const me = model.me;
  const deadline = me?.session?.deadline ?? null;
  const now = useNow(deadline !== null);
  const countdown = formatCountdown(deadline, now);
  const title = model.error
    ? `labdeck: ${model.error.message}`
    : 'Open the labdeck sidebar';
  return (
    <TextItem
      className="jp-labdeck-status-text"
      source={formatStatusText(me?.name ?? null, countdown)}
      title={title}
    />
  );
}
