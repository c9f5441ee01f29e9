import { useEffect, useState } from 'react';

/**
 * The current time (epoch ms), re-rendering every `periodMs` while
 * `enabled`; used by countdowns so they tick without refetching.
 */
export function useNow(enabled: boolean, periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) {
      return;
    }
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [enabled, periodMs]);
  return now;
}
