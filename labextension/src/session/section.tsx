import * as React from 'react';

import { profileDisplayName } from '../format';
import { LabdeckModel } from '../model';
import { ISessionInfo, ISidebarSection, SECTION_RANKS } from '../tokens';
import { SessionPanel } from './panel';
import { confirmStopSession, stopSession } from './stop';

/** Options of {@link sessionSection}. */
export interface ISessionSectionOptions {
  /** Open the admin usage report (its button shows for admins only). */
  onOpenUsageReport?: () => void;
  /**
   * Stop a session; defaults to a confirmation dialog and
   * `POST sessions/<id>/stop`. Rejects with a readable error.
   */
  stopSession?: (session: ISessionInfo) => Promise<void>;
}

/**
 * The Session section: who the user is, their session, usage and storage,
 * from the shared `me` model (which the sidebar refreshes itself).
 */
export function sessionSection(
  model: LabdeckModel,
  options: ISessionSectionOptions = {}
): ISidebarSection {
  const stop =
    options.stopSession ??
    ((session: ISessionInfo) => confirmAndStop(model, session));
  return {
    id: 'session',
    title: 'Session',
    rank: SECTION_RANKS.session,
    render: me => (
      <SessionPanel
        me={me}
        error={model.error}
        loading={model.loading}
        onStop={stop}
        onOpenUsageReport={options.onOpenUsageReport}
      />
    )
  };
}

/** Confirm, `POST sessions/<id>/stop`, then show the session has ended. */
async function confirmAndStop(
  model: LabdeckModel,
  session: ISessionInfo
): Promise<void> {
  const name = profileDisplayName(model.me?.profiles, session.profile);
  if (!(await confirmStopSession(name))) {
    return;
  }
  await stopSession(session.id);
  await model.refresh();
}
