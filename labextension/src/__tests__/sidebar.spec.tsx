import { Widget } from '@lumino/widgets';

import { LabdeckModel } from '../model';
import { LabdeckRequestError } from '../request';
import { LabdeckSidebar } from '../sidebar';
import { LabdeckStatus } from '../status';
import { IMe } from '../tokens';

/** Let React flush its updates. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

function byTestId(root: HTMLElement, id: string): HTMLElement | null {
  return root.querySelector(`[data-testid="${id}"]`);
}

describe('LabdeckSidebar', () => {
  let widget: LabdeckSidebar | null = null;

  afterEach(() => {
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
  });

  it('renders the four sections in order and the user', async () => {
    const me: IMe = {
      name: 'alice',
      admin: true,
      groups: ['class-a', 'tas'],
      storage: { used_bytes: 5e9, limit_bytes: 15e9 }
    };
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me),
      document: null
    });
    widget = new LabdeckSidebar(model);
    Widget.attach(widget, document.body);
    await model.refresh();
    widget.update();
    await settle();

    const node = widget.node;
    expect(node.id).toBe('labdeck-sidebar');
    expect(byTestId(node, 'labdeck-sidebar')).not.toBeNull();
    const sections = Array.from(
      node.querySelectorAll('[data-testid^="labdeck-section-"]')
    ).map(el => el.getAttribute('data-testid'));
    expect(sections).toEqual([
      'labdeck-section-session',
      'labdeck-section-spark',
      'labdeck-section-jobs',
      'labdeck-section-deployments'
    ]);
    expect(byTestId(node, 'labdeck-user-name')?.textContent).toBe('alice');
    expect(byTestId(node, 'labdeck-admin-badge')).not.toBeNull();
    expect(byTestId(node, 'labdeck-user-groups')?.textContent).toContain(
      'class-a'
    );
    expect(byTestId(node, 'labdeck-session-info')?.textContent).toBe(
      'No session data yet.'
    );
    expect(byTestId(node, 'labdeck-storage')?.textContent).toContain(
      '5.0 GB of 15 GB'
    );
  });

  it("shows the server's error message", async () => {
    const model = new LabdeckModel({
      fetchMe: () =>
        Promise.reject(
          new LabdeckRequestError('You are not logged in.', 403, 'forbidden')
        ),
      document: null
    });
    widget = new LabdeckSidebar(model);
    Widget.attach(widget, document.body);
    await model.refresh();
    widget.update();
    await settle();
    const error = byTestId(widget.node, 'labdeck-error');
    expect(error?.textContent).toBe('You are not logged in.');
    expect(byTestId(widget.node, 'labdeck-user-name')).toBeNull();
  });

  it('folds a section when its header is clicked', async () => {
    const model = new LabdeckModel({
      fetchMe: () => new Promise<IMe>(() => undefined),
      document: null
    });
    widget = new LabdeckSidebar(model);
    Widget.attach(widget, document.body);
    widget.update();
    await settle();
    const section = byTestId(widget.node, 'labdeck-section-spark')!;
    const header = section.querySelector('button')!;
    expect(header.getAttribute('aria-expanded')).toBe('true');
    header.click();
    await settle();
    expect(header.getAttribute('aria-expanded')).toBe('false');
    expect(
      section.querySelector('.jp-labdeck-section-body')?.hasAttribute('hidden')
    ).toBe(true);
  });
});

describe('LabdeckStatus', () => {
  it('shows the runtime and the countdown, and opens on click', async () => {
    const deadline = new Date(Date.now() + 3600 * 1000 + 30_000).toISOString();
    const model = new LabdeckModel({
      fetchMe: () =>
        Promise.resolve({
          name: 'bob',
          admin: false,
          groups: [],
          session: {
            id: 1,
            profile: 'cpu',
            started: new Date().toISOString(),
            deadline,
            gpus: []
          }
        }),
      document: null
    });
    const onClick = jest.fn();
    const item = new LabdeckStatus({ model, onClick });
    Widget.attach(item, document.body);
    await model.refresh();
    item.update();
    await settle();
    expect(item.node.dataset.testid).toBe('labdeck-status');
    expect(item.node.textContent).toMatch(
      /^labdeck · cpu · 01:00:(29|30) left$/
    );
    item.node.click();
    expect(onClick).toHaveBeenCalledTimes(1);
    item.dispose();
    model.dispose();
  });
});
