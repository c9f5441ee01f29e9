import * as React from 'react';

import { CopyButton } from '../components/copy';
import { curlSnippet, endpointUrl, pythonSnippet } from './logic';
import { IDeployment } from './tokens';

/**
 * How to call the endpoint from elsewhere: `curl` (a terminal, or outside
 * the hub with a key) and Python (a notebook of the lab), each with a copy
 * button. Both send the test form's payload.
 */
export function Snippets({
  deployment,
  origin,
  payload
}: {
  deployment: IDeployment;
  /** Where the hub is: the endpoint's path is on that host. */
  origin: string;
  payload: string;
}): JSX.Element {
  const url = endpointUrl(origin, deployment.endpoint.invocations);
  const curl = curlSnippet(deployment, url, payload);
  const python = pythonSnippet(deployment, payload);
  return (
    <div className="jp-labdeck-deployment-snippets">
      <p className="jp-labdeck-muted">
        Endpoint: <code data-testid="labdeck-deployment-url">{url}</code>
        {deployment.spec.access === 'key'
          ? ' · replace <key> with its access key.'
          : ' · with a hub token ($JUPYTERHUB_API_TOKEN in the lab’s terminals and notebooks).'}
      </p>
      <Snippet
        title="curl"
        text={curl}
        testId="labdeck-deployment-curl"
        copyTestId="labdeck-deployment-copy-curl"
      />
      <Snippet
        title="Python (in a notebook of this lab)"
        text={python}
        testId="labdeck-deployment-python"
        copyTestId="labdeck-deployment-copy-python"
      />
    </div>
  );
}

function Snippet({
  title,
  text,
  testId,
  copyTestId
}: {
  title: string;
  text: string;
  testId: string;
  copyTestId: string;
}): JSX.Element {
  return (
    <figure className="jp-labdeck-deployment-snippet">
      <figcaption className="jp-labdeck-job-line">
        <span>{title}</span>
        <CopyButton
          text={text}
          label={`Copy ${title.split(' ')[0]}`}
          testId={copyTestId}
        />
      </figcaption>
      <pre className="jp-labdeck-job-log" data-testid={testId}>
        {text}
      </pre>
    </figure>
  );
}
