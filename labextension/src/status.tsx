import { TextItem } from '@jupyterlab/statusbar';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  formatCountdown,
  formatStatusText,
  profileDisplayName,
  remainingMilliseconds
} from './format';
import { useNow } from './hooks';
import { LabdeckModel } from './model';
import { isFinalStretch } from './thresholds';
import { DEFAULT_WARN_BEFORE_SECONDS } from './tokens';

/**
 * Status bar item: `labdeck · <user>` without a session, else
 * `labdeck · <runtime> · HH:MM:SS left` (`labdeck · GPU · 01:02:03 left`).
 * In the last `min(warn_before_seconds)` it takes a warning style.
 * Clicking it runs `onClick` (the plugin opens the sidebar).
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
  const session = me?.session ?? null;
  const deadline = session?.deadline ?? null;
  const now = useNow(deadline !== null);
  const countdown = formatCountdown(deadline, now);
  const remaining = remainingMilliseconds(deadline, now);
  const warn = isFinalStretch(
    remaining === null ? null : remaining / 1000,
    me?.warn_before_seconds ?? DEFAULT_WARN_BEFORE_SECONDS
  );
  const label = session
    ? profileDisplayName(me?.profiles, session.profile)
    : (me?.name ?? null);
  const title = model.error
    ? `labdeck: ${model.error.message}`
    : 'Open the labdeck sidebar';
  return (
    <TextItem
      className={`jp-labdeck-status-text${warn ? ' jp-mod-warn' : ''}`}
      source={formatStatusText(label, countdown)}
      title={title}
    />
  );
}
