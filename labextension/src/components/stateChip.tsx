import * as React from 'react';

import { formatState } from '../format';

/**
 * How a state looks on its chip: waiting for something (outlined in the
 * warning colour), active (outlined in the brand colour), done or failed
 * (filled), or simply ended (plain).
 */
export type StateTone = 'waiting' | 'active' | 'done' | 'failed' | 'ended';

/**
 * A resource's state as a chip (`Running`, `In service`): live states
 * outlined, outcomes filled. The state is also a class (`jp-mod-running`)
 * and `data-state`, for tests and styles.
 */
export function StateChip({
  state,
  tone,
  testId
}: {
  /** The state as the service writes it, e.g. `IN_SERVICE`. */
  state: string;
  tone: StateTone;
  testId: string;
}): JSX.Element {
  return (
    <span
      className={`jp-labdeck-state-chip jp-mod-${tone} jp-mod-${state.toLowerCase()}`}
      data-testid={testId}
      data-state={state}
    >
      {formatState(state)}
    </span>
  );
}
