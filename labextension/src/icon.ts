import { LabIcon } from '@jupyterlab/ui-components';

import labdeckSvgstr from '../style/icons/labdeck.svg';

/** The labdeck icon (a deck of cards), theme-aware through `jp-icon3`. */
export const labdeckIcon = new LabIcon({
  name: 'labdeck:icon',
  svgstr: labdeckSvgstr
});
