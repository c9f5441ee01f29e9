import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ILabdeckSidebarSections, ISidebarSection } from './tokens';

/** The registry of sidebar sections: what the sidebar renders. */
export class SidebarSections implements ILabdeckSidebarSections {
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get sections(): readonly ISidebarSection[] {
    return this._sections;
  }

  add(section: ISidebarSection): IDisposable {
    if (this._sections.some(s => s.id === section.id)) {
      throw new Error(
        `labdeck: there is already a sidebar section "${section.id}".`
      );
    }
    // A stable sort keeps equal ranks in the order they were added.
    this._sections = [...this._sections, section].sort(
      (a, b) => a.rank - b.rank
    );
    this._changed.emit();
    return new DisposableDelegate(() => {
      this._sections = this._sections.filter(s => s !== section);
      this._changed.emit();
    });
  }

  private _changed = new Signal<this, void>(this);
  private _sections: readonly ISidebarSection[] = [];
}
