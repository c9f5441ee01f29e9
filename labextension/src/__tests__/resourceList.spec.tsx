import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IResourceListProps, ResourceList } from '../components/resourceList';
import { LabdeckRequestError } from '../request';
import { byTestId, settle } from './utils';

interface IThing {
  id: string;
  name: string;
}

describe('ResourceList', () => {
  let widget: Widget | null = null;

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  /** Render a list of things with these props; returns its panel. */
  async function show(
    props: Partial<IResourceListProps<IThing>>
  ): Promise<HTMLElement> {
    widget = ReactWidget.create(
      <ResourceList<IThing>
        testIdPrefix="labdeck-things"
        className="jp-labdeck-things"
        listClassName="jp-labdeck-things-list"
        error={null}
        loading={false}
        items={null}
        empty="No things yet."
        itemKey={thing => thing.id}
        renderItem={thing => <li data-testid="labdeck-thing">{thing.name}</li>}
        {...props}
      >
        <form data-testid="labdeck-things-create" />
      </ResourceList>
    );
    Widget.attach(widget, document.body);
    await settle();
    const panel = byTestId(widget.node, 'labdeck-things-panel');
    expect(panel?.className).toBe('jp-labdeck-things');
    return panel!;
  }

  function things(panel: HTMLElement): string[] {
    return Array.from(
      panel.querySelectorAll('[data-testid="labdeck-thing"]')
    ).map(li => li.textContent ?? '');
  }

  it('says it is loading until the first answer', async () => {
    const panel = await show({ loading: true });
    expect(byTestId(panel, 'labdeck-things-loading')?.textContent).toBe(
      'Loading…'
    );
    expect(byTestId(panel, 'labdeck-things-empty')).toBeNull();
    // The create form shows from the start.
    expect(byTestId(panel, 'labdeck-things-create')).not.toBeNull();
  });

  it('shows nothing more before the first answer when not loading', async () => {
    const panel = await show({});
    expect(byTestId(panel, 'labdeck-things-loading')).toBeNull();
    expect(byTestId(panel, 'labdeck-things-empty')).toBeNull();
    expect(panel.querySelector('ul')).toBeNull();
  });

  it('says when there are no items', async () => {
    const panel = await show({ items: [], loading: true });
    expect(byTestId(panel, 'labdeck-things-empty')?.textContent).toBe(
      'No things yet.'
    );
    expect(byTestId(panel, 'labdeck-things-loading')).toBeNull();
  });

  it('lists the items in order, with the header and footer', async () => {
    const panel = await show({
      items: [
        { id: 'b', name: 'Bee' },
        { id: 'a', name: 'Ant' }
      ],
      header: <p data-testid="labdeck-things-header">Header</p>,
      footer: '3 older things not shown.'
    });
    const list = panel.querySelector('ul.jp-labdeck-things-list')!;
    expect(things(list as HTMLElement)).toEqual(['Bee', 'Ant']);
    const children = Array.from(panel.children);
    const header = byTestId(panel, 'labdeck-things-header')!;
    expect(children.indexOf(header)).toBeLessThan(children.indexOf(list));
    expect(panel.textContent).toContain('3 older things not shown.');
    expect(byTestId(panel, 'labdeck-things-empty')).toBeNull();
  });

  it('shows the error above the last good items', async () => {
    const panel = await show({
      items: [{ id: 'a', name: 'Ant' }],
      error: new LabdeckRequestError('Service down.', 502, 'bad_gateway')
    });
    const error = byTestId(panel, 'labdeck-things-error')!;
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.dataset.code).toBe('bad_gateway');
    expect(error.textContent).toBe('Service down.');
    expect(things(panel)).toEqual(['Ant']);
  });
});
