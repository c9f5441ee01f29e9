import * as React from 'react';

import { IProgress, progressFraction, progressText } from '../format';
import { Meter } from './meter';

/**
 * How far a resource has got in starting (a cluster, a deployment): its
 * step and `done of total` over a bar.
 */
export function ProgressMeter({
  label,
  progress,
  testId
}: {
  /** What is happening, e.g. `Starting`, `Creating`. */
  label: string;
  progress: IProgress | null | undefined;
  testId?: string;
}): JSX.Element {
  return (
    <Meter
      label={label}
      text={progressText(progress)}
      fraction={progressFraction(progress) ?? 0}
      testId={testId}
    />
  );
}
