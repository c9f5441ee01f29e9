import * as React from 'react';

import { LabdeckRequestError } from '../request';
import { ErrorAlert, Loading } from './feedback';

/** Props of {@link ResourceList}. */
export interface IResourceListProps<T> {
  /**
   * Prefix of the test ids, e.g. `labdeck-spark`: the panel is
   * `<prefix>-panel`, then `-error`, `-loading` and `-empty`.
   */
  testIdPrefix: string;
  /** Class of the panel, e.g. `jp-labdeck-spark`. */
  className: string;
  /** Class of the `<ul>` of items. */
  listClassName: string;
  /** Why the latest fetch failed; shown above the last good items. */
  error: LabdeckRequestError | null;
  /** Whether a fetch is in flight (`Loading…` until the first answer). */
  loading: boolean;
  /** The items to show, `null` before the first answer. */
  items: readonly T[] | null;
  /** What to say when there are no items. */
  empty: React.ReactNode;
  /** A stable key per item (its id). */
  itemKey: (item: T) => string;
  /** One item, as an `<li>`. */
  renderItem: (item: T) => React.ReactElement;
  /** Shown between the error and the items (e.g. what notebooks use). */
  header?: React.ReactNode;
  /** A muted line under the items (e.g. how many are not shown). */
  footer?: React.ReactNode;
  /** Under everything: the form that creates an item. */
  children?: React.ReactNode;
}

/**
 * A panel listing the user's resources of one kind (Spark clusters,
 * training jobs, deployments): the fetch error, `Loading…`, the empty
 * text or the items, then the create form. The panels differ only in
 * their items and form.
 */
export function ResourceList<T>({
  testIdPrefix,
  className,
  listClassName,
  error,
  loading,
  items,
  empty,
  itemKey,
  renderItem,
  header,
  footer,
  children
}: IResourceListProps<T>): JSX.Element {
  return (
    <div className={className} data-testid={`${testIdPrefix}-panel`}>
      {error && <ErrorAlert error={error} testId={`${testIdPrefix}-error`} />}
      {header}
      {items === null ? (
        loading && <Loading testId={`${testIdPrefix}-loading`} />
      ) : items.length === 0 ? (
        <p className="jp-labdeck-muted" data-testid={`${testIdPrefix}-empty`}>
          {empty}
        </p>
      ) : (
        <ul className={listClassName}>
          {items.map(item => (
            <React.Fragment key={itemKey(item)}>
              {renderItem(item)}
            </React.Fragment>
          ))}
        </ul>
      )}
      {footer && <p className="jp-labdeck-muted">{footer}</p>}
      {children}
    </div>
  );
}
