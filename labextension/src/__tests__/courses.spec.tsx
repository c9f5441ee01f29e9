import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { CoursesSection } from '../admin/courses';
import { ICourse, ICoursesApi, saveCourse } from '../admin/coursesApi';
import { LabdeckRequestError } from '../request';

function course(overrides: Partial<ICourse> = {}): ICourse {
  return {
    group: 'cs101',
    instructors: ['ada'],
    students: ['bob', 'cy'],
    folder: '/var/lib/labdeck/courses/cs101/files',
    link_name: 'course-cs101',
    repository: null,
    branch: null,
    material_link: null,
    created: '2026-12-01T09:00:00+00:00',
    updated: '2026-12-01T09:00:00+00:00',
    updated_by: 'admin',
    created_users: [],
    ...overrides
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

function byTestId<T extends HTMLElement = HTMLElement>(
  root: HTMLElement,
  id: string
): T {
  const element = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) {
    throw new Error(`No element with data-testid=${id}`);
  }
  return element;
}

/** Set a controlled field's value the way React notices. */
function type(element: HTMLInputElement | HTMLTextAreaElement, value: string) {
  const prototype =
    element instanceof HTMLTextAreaElement
      ? HTMLTextAreaElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(prototype, 'value')?.set?.call(
    element,
    value
  );
  element.dispatchEvent(new Event('input', { bubbles: true }));
}

function input(node: HTMLElement, id: string): HTMLInputElement {
  const found = byTestId(node, id);
  return found instanceof HTMLInputElement
    ? found
    : (found.querySelector('input') as HTMLInputElement);
}

describe('saveCourse', () => {
  it('creates a new course, then adds the roster', async () => {
    const api: { [K in keyof ICoursesApi]: jest.Mock } = {
      list: jest.fn(),
      put: jest
        .fn()
        .mockResolvedValue(
          course({ instructors: [], students: [], created_users: [] })
        ),
      addRoster: jest
        .fn()
        .mockResolvedValue(course({ created_users: ['bob', 'cy'] }))
    };
    const saved = await saveCourse(api, undefined, {
      group: 'cs101',
      roster: 'user,role\nada,instructor\nbob\ncy\n',
      repository: ' https://example.org/m.git ',
      branch: ''
    });
    expect(api.put).toHaveBeenCalledWith('cs101', {
      instructors: [],
      students: [],
      repository: 'https://example.org/m.git',
      branch: null
    });
    expect(api.addRoster).toHaveBeenCalledWith(
      'cs101',
      'user,role\nada,instructor\nbob\ncy\n'
    );
    expect(saved.createdUsers).toEqual(['bob', 'cy']);
  });

  it('keeps an existing course and its members, only adding', async () => {
    const existing = course({ repository: 'https://example.org/m.git' });
    const api: { [K in keyof ICoursesApi]: jest.Mock } = {
      list: jest.fn(),
      put: jest.fn(),
      addRoster: jest
        .fn()
        .mockResolvedValue(course({ students: ['bob', 'cy', 'di'] }))
    };
    await saveCourse(api, existing, {
      group: 'cs101',
      roster: 'di\n',
      repository: '',
      branch: ''
    });
    expect(api.put).not.toHaveBeenCalled();
    expect(api.addRoster).toHaveBeenCalledWith('cs101', 'di\n');
  });
});

describe('CoursesSection', () => {
  let widget: Widget | null = null;

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  async function render(api: ICoursesApi): Promise<HTMLElement> {
    widget = ReactWidget.create(<CoursesSection api={api} />);
    Widget.attach(widget, document.body);
    await settle();
    return widget.node;
  }

  it('lists courses and saves one from a roster', async () => {
    const link =
      '/hub/user-redirect/git-pull?repo=https%3A%2F%2Fexample.org%2Fm.git';
    const api: { [K in keyof ICoursesApi]: jest.Mock } = {
      list: jest
        .fn()
        .mockResolvedValueOnce([course()])
        .mockResolvedValue([course(), course({ group: 'ml' })]),
      put: jest.fn().mockResolvedValue(
        course({
          group: 'ml',
          instructors: [],
          students: [],
          repository: 'https://example.org/m.git',
          material_link: link
        })
      ),
      addRoster: jest.fn().mockResolvedValue(
        course({
          group: 'ml',
          instructors: ['ada'],
          students: ['eve'],
          repository: 'https://example.org/m.git',
          material_link: link,
          created_users: ['eve']
        })
      )
    };
    const node = await render(api);
    const rows = Array.from(
      byTestId(node, 'labdeck-courses-table').querySelectorAll('tbody tr')
    ).map(tr =>
      Array.from(tr.querySelectorAll('td')).map(td => td.textContent)
    );
    expect(rows).toEqual([['cs101', 'ada', '2', '–']]);

    type(input(node, 'labdeck-course-group'), 'ml');
    type(
      byTestId<HTMLTextAreaElement>(node, 'labdeck-course-roster'),
      'ada,instructor\neve\n'
    );
    type(input(node, 'labdeck-course-repository'), 'https://example.org/m.git');
    byTestId(node, 'labdeck-course-submit').click();
    await settle();

    expect(api.put).toHaveBeenCalledWith('ml', {
      instructors: [],
      students: [],
      repository: 'https://example.org/m.git',
      branch: null
    });
    expect(api.addRoster).toHaveBeenCalledWith('ml', 'ada,instructor\neve\n');
    const outcome = byTestId(node, 'labdeck-course-outcome').textContent;
    expect(outcome).toContain('ml: 1 instructor, 1 student.');
    expect(outcome).toContain('New hub users: eve');
    expect(outcome).toContain(link);
    expect(api.list).toHaveBeenCalledTimes(2);
  });

  it("shows the server's refusal of a roster line", async () => {
    const api: { [K in keyof ICoursesApi]: jest.Mock } = {
      list: jest.fn().mockResolvedValue([course()]),
      put: jest.fn(),
      addRoster: jest
        .fn()
        .mockRejectedValue(
          new LabdeckRequestError(
            "Line 2: the role must be instructor or student, not 'prof'.",
            400,
            'invalid_roster'
          )
        )
    };
    const node = await render(api);
    type(input(node, 'labdeck-course-group'), 'cs101');
    type(
      byTestId<HTMLTextAreaElement>(node, 'labdeck-course-roster'),
      'di\nx,prof\n'
    );
    byTestId(node, 'labdeck-course-submit').click();
    await settle();
    expect(api.put).not.toHaveBeenCalled();
    const outcome = byTestId(node, 'labdeck-course-outcome');
    expect(outcome.getAttribute('role')).toBe('alert');
    expect(outcome.textContent).toContain('Line 2');
  });
});
