import { Clipboard } from '@jupyterlab/apputils';
import { Button, copyIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

/**
 * Copies `text` to the clipboard (JupyterLab's own copy, which works
 * without the Clipboard API's permission), then says it did until the text
 * changes.
 */
export function CopyButton({
  text,
  label = 'Copy',
  title,
  testId
}: {
  text: string;
  label?: string;
  title?: string;
  testId: string;
}): JSX.Element {
  const [copied, setCopied] = React.useState<string | null>(null);
  return (
    <Button
      className="jp-mod-styled"
      small
      title={title ?? 'Copy to the clipboard'}
      data-testid={testId}
      data-copied={copied === text ? 'true' : 'false'}
      onClick={() => {
        Clipboard.copyToSystem(text);
        setCopied(text);
      }}
    >
      <copyIcon.react tag="span" className="jp-labdeck-copy-icon" />
      {copied === text ? 'Copied' : label}
    </Button>
  );
}
