import * as React from 'react';

import { ISidebarSection, SECTION_RANKS } from '../tokens';
import { SparkModel } from './model';
import { ISparkPanelProps, SparkPanel } from './panel';

/** The Spark clusters section: the panel over a polled {@link SparkModel}. */
export function sparkSection(
  model: SparkModel,
  options: Omit<ISparkPanelProps, 'model' | 'me'> = {}
): ISidebarSection {
  return {
    id: 'spark',
    title: 'Spark clusters',
    rank: SECTION_RANKS.spark,
    render: me => <SparkPanel {...options} model={model} me={me} />,
    refresh: () => model.refresh()
  };
}
