import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { UsageBars, usageText } from '../session/usage';

describe('time granted for today', () => {
  const now = new Date(2026, 10, 25, 10).getTime();

  it('shows beside the profile usage', () => {
    const usage = {
      used_seconds: 8 * 3600,
      remaining_seconds: 2 * 3600,
      resets_at: null,
      granted_seconds: 2 * 3600
    };
    expect(usageText(usage, 8 * 3600, now)).toBe(
      '8 h used · 2 h left · +2 h granted today'
    );
    expect(usageText({ ...usage, granted_seconds: 0 }, 8 * 3600, now)).toBe(
      '8 h used · 2 h left'
    );
  });

  it("counts in the bar as part of today's budget", () => {
    const widget = ReactWidget.create(
      UsageBars({
        usage: {
          cpu: {
            used_seconds: 8 * 3600,
            remaining_seconds: 2 * 3600,
            resets_at: null,
            granted_seconds: 2 * 3600
          }
        },
        quota: { cpu: { session_seconds: null, daily_seconds: 8 * 3600 } },
        profiles: [{ name: 'cpu', display_name: 'CPU', gpus: 0 }],
        now
      }) as JSX.Element
    );
    Widget.attach(widget, document.body);
    return new Promise<void>(resolve => setTimeout(resolve, 0)).then(() => {
      const bar = widget.node.querySelector('[role="progressbar"]');
      // 8 h of 10 h, not 8 h of 8 h
      expect(bar?.getAttribute('aria-valuenow')).toBe('80');
      widget.dispose();
    });
  });
});
