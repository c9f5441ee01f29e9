import * as React from 'react';

import { Meter } from '../components/meter';
import { formatDecimalBytes, meterLevel, usedFraction } from '../format';
import { IStorageInfo } from '../tokens';

/** Storage bar turns to the warn colour at 90 % and danger at 100 %. */
export const STORAGE_WARN_FRACTION = 0.9;
export const STORAGE_DANGER_FRACTION = 1;

/**
 * Home folder storage: `Storage: 1.2 GB of 15 GB`, with a hint once it is
 * full (the server then refuses to save).
 */
export function StorageBar({
  storage
}: {
  storage: IStorageInfo;
}): JSX.Element {
  const { used_bytes: used, limit_bytes: limit } = storage;
  const limited = typeof limit === 'number' && limit > 0;
  const text = limited
    ? `${formatDecimalBytes(used)} of ${formatDecimalBytes(limit)}`
    : `${formatDecimalBytes(used)} used`;
  const fraction = usedFraction(used, limit);
  const full = limited && used >= limit;
  return (
    <div className="jp-labdeck-storage" data-testid="labdeck-storage">
      <Meter
        label="Storage"
        text={text}
        fraction={fraction}
        level={meterLevel(
          fraction,
          STORAGE_WARN_FRACTION,
          STORAGE_DANGER_FRACTION
        )}
      >
        {full && (
          <p
            className="jp-labdeck-hint jp-mod-danger"
            role="alert"
            data-testid="labdeck-storage-full"
          >
            Storage full: delete files to save again
          </p>
        )}
      </Meter>
    </div>
  );
}
