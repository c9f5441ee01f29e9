import * as React from 'react';

import { MeterLevel } from '../format';

/** Props of {@link Meter}. */
export interface IMeterProps {
  /** What is measured, e.g. `CPU today`, `Storage`. */
  label: string;
  /** The measure in words, e.g. `1.2 GB of 15 GB`. */
  text: string;
  /** Used fraction in [0, 1]; without one only the text is shown. */
  fraction: number | null;
  /** Colour of the bar. */
  level?: MeterLevel;
  testId?: string;
  children?: React.ReactNode;
}

/**
 * A labelled bar: `label: text` above a thin progress bar whose colour
 * follows `level` (theme colours: brand, warn, error).
 */
export function Meter({
  label,
  text,
  fraction,
  level = 'ok',
  testId,
  children
}: IMeterProps): JSX.Element {
  const percent = fraction === null ? null : Math.round(fraction * 100);
  const mod = level === 'ok' ? '' : ` jp-mod-${level}`;
  return (
    <div className="jp-labdeck-meter" data-testid={testId} data-level={level}>
      <div className="jp-labdeck-meter-label">
        <span className="jp-labdeck-meter-name">{label}:</span>{' '}
        <span className="jp-labdeck-meter-text">{text}</span>
      </div>
      {percent !== null && (
        <div
          className={`jp-labdeck-meter-track${mod}`}
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
      {children}
    </div>
  );
}
