import { Widget } from '@lumino/widgets';

import { LabdeckModel } from '../model';
import { SidebarSections } from '../sections';
import { LabdeckSidebar } from '../sidebar';
import { ISidebarSection } from '../tokens';

/** Let React flush its updates. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

export function byTestId(root: ParentNode, id: string): HTMLElement | null {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** The sidebar over `model` with these sections, attached to the page. */
export function attachSidebar(
  model: LabdeckModel,
  sections: ISidebarSection[]
): LabdeckSidebar {
  const registry = new SidebarSections();
  sections.forEach(section => registry.add(section));
  const sidebar = new LabdeckSidebar(model, registry);
  Widget.attach(sidebar, document.body);
  return sidebar;
}

/**
 * Stop `Date` at `at` (timers keep running), so clock times and "tomorrow"
 * in the text do not depend on when the suite runs.
 */
export function pinClock(at: Date): void {
  jest.useFakeTimers({
    now: at,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout'
    ]
  });
}

/**
 * Set a controlled input, textarea or select's value the way a user does
 * (React listens to `input`, and to `change` on selects).
 */
export function type(element: HTMLElement | null, value: string): void {
  if (!element) {
    throw new Error('no element to type into');
  }
  const prototype =
    element instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : element instanceof HTMLTextAreaElement
        ? HTMLTextAreaElement.prototype
        : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(prototype, 'value')!.set!.call(
    element,
    value
  );
  element.dispatchEvent(
    new Event(element instanceof HTMLSelectElement ? 'change' : 'input', {
      bubbles: true
    })
  );
}
