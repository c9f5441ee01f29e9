import { JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { deploymentsPlugin } from '../deployments/plugin';
import plugins from '../index';
import { jobsPlugin } from '../jobs/plugin';
import { LabdeckModel } from '../model';
import { LabdeckRequestError, RESTARTING_MESSAGE } from '../request';
import { SidebarSections } from '../sections';
import { sessionPlugin } from '../session/plugin';
import { sessionSection } from '../session/section';
import { LabdeckSidebar } from '../sidebar';
import { sparkPlugin } from '../spark/plugin';
import { LabdeckStatus } from '../status';
import { IMe, ISidebarSection } from '../tokens';
import { attachSidebar, byTestId, settle } from './utils';

/** The part of the application the section plugins use; never restored. */
const app = {
  commands: {
    addCommand: jest.fn(),
    hasCommand: () => false,
    execute: jest.fn()
  },
  contextMenu: { addItem: jest.fn() },
  restored: new Promise<void>(() => undefined)
} as unknown as JupyterFrontEnd;

/** A section that only says its name. */
function section(
  id: string,
  rank: number,
  extra: Partial<ISidebarSection> = {}
): ISidebarSection {
  return {
    id,
    title: id.toUpperCase(),
    rank,
    render: () => <p>{id} body</p>,
    ...extra
  };
}

/** The test ids of the sections shown, in order. */
function sectionIds(root: HTMLElement): (string | null)[] {
  return Array.from(
    root.querySelectorAll('[data-testid^="labdeck-section-"]')
  ).map(el => el.getAttribute('data-testid'));
}

describe('LabdeckSidebar', () => {
  let widget: LabdeckSidebar | null = null;

  afterEach(() => {
    widget?.model.dispose();
    widget?.dispose();
    widget = null;
  });

  it('shows the sections the plugins add, in rank order, and the user', async () => {
    const me: IMe = {
      name: 'alice',
      admin: true,
      groups: ['class-a', 'tas'],
      storage: { used_bytes: 5e9, limit_bytes: 15e9 }
    };
    const model = new LabdeckModel({
      fetchMe: () => Promise.resolve(me)
    });
    const registry = new SidebarSections();
    // Plugins activate in no particular order.
    for (const plugin of [
      deploymentsPlugin,
      sparkPlugin,
      jobsPlugin,
      sessionPlugin
    ]) {
      if (plugin === jobsPlugin || plugin === deploymentsPlugin) {
        // No layout restorer nor file browser here.
        plugin.activate(app, registry, null, null);
      } else {
        plugin.activate(app, registry, model);
      }
    }
    widget = new LabdeckSidebar(model, registry);
    Widget.attach(widget, document.body);
    await model.refresh();
    widget.update();
    await settle();

    const node = widget.node;
    expect(node.id).toBe('labdeck-sidebar');
    expect(byTestId(node, 'labdeck-sidebar')).not.toBeNull();
    expect(sectionIds(node)).toEqual([
      'labdeck-section-session',
      'labdeck-section-spark',
      'labdeck-section-jobs',
      'labdeck-section-deployments'
    ]);
    expect(
      Array.from(node.querySelectorAll('.jp-labdeck-section-title')).map(
        el => el.textContent
      )
    ).toEqual(['Session', 'Spark clusters', 'Training jobs', 'Deployments']);
    expect(
      byTestId(node, 'labdeck-section-spark')?.querySelector(
        '[data-testid="labdeck-spark-panel"]'
      )
    ).not.toBeNull();
    expect(
      byTestId(node, 'labdeck-section-jobs')?.querySelector(
        '[data-testid="labdeck-jobs-panel"]'
      )
    ).not.toBeNull();
    expect(
      byTestId(node, 'labdeck-section-deployments')?.querySelector(
        '[data-testid="labdeck-deployments-panel"]'
      )
    ).not.toBeNull();
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

  it('shows a section added later in its place, and drops a removed one', async () => {
    const model = new LabdeckModel({
      fetchMe: () => new Promise<IMe>(() => undefined)
    });
    const registry = new SidebarSections();
    registry.add(section('b', 200));
    registry.add(section('a', 100));
    widget = new LabdeckSidebar(model, registry);
    Widget.attach(widget, document.body);
    widget.update();
    await settle();
    expect(sectionIds(widget.node)).toEqual([
      'labdeck-section-a',
      'labdeck-section-b'
    ]);

    const later = registry.add(section('c', 150));
    await settle();
    expect(sectionIds(widget.node)).toEqual([
      'labdeck-section-a',
      'labdeck-section-c',
      'labdeck-section-b'
    ]);
    expect(byTestId(widget.node, 'labdeck-section-c')?.textContent).toBe(
      'Cc body'
    );

    later.dispose();
    await settle();
    expect(sectionIds(widget.node)).toEqual([
      'labdeck-section-a',
      'labdeck-section-b'
    ]);
  });

  it('refreshes me and every section that can be refreshed', async () => {
    const fetchMe = jest.fn(() =>
      Promise.resolve<IMe>({ name: 'alice', admin: false, groups: [] })
    );
    const model = new LabdeckModel({ fetchMe });
    const refreshA = jest.fn(() => Promise.resolve());
    const refreshC = jest.fn(() => Promise.resolve());
    widget = attachSidebar(model, [
      section('a', 1, { refresh: refreshA }),
      section('b', 2),
      section('c', 3, { refresh: refreshC })
    ]);
    widget.update();
    await settle();

    byTestId(widget.node, 'labdeck-refresh')!.click();
    await settle();
    expect(fetchMe).toHaveBeenCalledTimes(1);
    expect(refreshA).toHaveBeenCalledTimes(1);
    expect(refreshC).toHaveBeenCalledTimes(1);
  });

  it("shows the server's error message", async () => {
    const model = new LabdeckModel({
      fetchMe: () =>
        Promise.reject(
          new LabdeckRequestError('You are not logged in.', 403, 'forbidden')
        )
    });
    widget = attachSidebar(model, [sessionSection(model)]);
    await model.refresh();
    widget.update();
    await settle();
    const error = byTestId(widget.node, 'labdeck-error');
    expect(error?.textContent).toBe('You are not logged in.');
    expect(error?.getAttribute('role')).toBe('alert');
    expect(byTestId(widget.node, 'labdeck-user-name')).toBeNull();
  });

  it('says the control plane is restarting, then clears it once it answers', async () => {
    const me: IMe = { name: 'alice', admin: false, groups: [] };
    const fetchMe = jest
      .fn()
      .mockRejectedValueOnce(
        new LabdeckRequestError(
          RESTARTING_MESSAGE,
          503,
          'service_restarting',
          3
        )
      )
      .mockResolvedValue(me);
    const model = new LabdeckModel({ fetchMe });
    widget = attachSidebar(model, [sessionSection(model)]);
    await model.refresh();
    widget.update();
    await settle();
    const notice = byTestId(widget.node, 'labdeck-error');
    expect(notice?.textContent).toBe(
      "labdeck's control plane is restarting. This page retries on its own; " +
        'your lab and files are not affected.'
    );
    // a passing state, announced politely
    expect(notice?.getAttribute('role')).toBe('status');

    await model.refresh();
    widget.update();
    await settle();
    expect(byTestId(widget.node, 'labdeck-error')).toBeNull();
    expect(byTestId(widget.node, 'labdeck-user-name')?.textContent).toContain(
      'alice'
    );
  });

  it('folds a section when its header is clicked', async () => {
    const model = new LabdeckModel({
      fetchMe: () => new Promise<IMe>(() => undefined)
    });
    widget = attachSidebar(model, [section('spark', 1)]);
    widget.update();
    await settle();
    const sectionNode = byTestId(widget.node, 'labdeck-section-spark')!;
    const header = sectionNode.querySelector('button')!;
    expect(header.getAttribute('aria-expanded')).toBe('true');
    header.click();
    await settle();
    expect(header.getAttribute('aria-expanded')).toBe('false');
    expect(
      sectionNode
        .querySelector('.jp-labdeck-section-body')
        ?.hasAttribute('hidden')
    ).toBe(true);
  });
});

describe('SidebarSections', () => {
  it('refuses a second section with the same id', () => {
    const registry = new SidebarSections();
    registry.add(section('spark', 1));
    expect(() => registry.add(section('spark', 2))).toThrow(
      'there is already a sidebar section "spark"'
    );
  });

  it('keeps equal ranks in the order they were added', () => {
    const registry = new SidebarSections();
    const changed = jest.fn();
    registry.changed.connect(changed);
    registry.add(section('x', 5));
    registry.add(section('y', 5));
    registry.add(section('w', 1));
    expect(registry.sections.map(s => s.id)).toEqual(['w', 'x', 'y']);
    expect(changed).toHaveBeenCalledTimes(3);
  });
});

describe('labdeck plugins', () => {
  it('have labdeck ids and descriptions', () => {
    const ids = plugins.map(p => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const plugin of plugins) {
      expect(plugin.id).toMatch(/^labdeck:[a-z-]+$/);
      expect(plugin.description).toBeTruthy();
    }
    expect(ids).toEqual(
      expect.arrayContaining([
        'labdeck:sidebar',
        'labdeck:sidebar-sections',
        'labdeck:session',
        'labdeck:spark',
        'labdeck:jobs',
        'labdeck:deployments'
      ])
    );
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
        })
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
