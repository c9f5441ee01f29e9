import { Button, launchIcon, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ActionError } from '../components/feedback';
import {
  Fields,
  FormActions,
  NumberField,
  SelectField,
  TextField
} from '../components/fields';
import { ProgressMeter } from '../components/progress';
import { ResourceList } from '../components/resourceList';
import { formatCountdown, remainingMilliseconds } from '../format';
import { useAction, useNow } from '../hooks';
import { isFinalStretch } from '../thresholds';
import { DEFAULT_WARN_BEFORE_SECONDS, IMe } from '../tokens';
import {
  checkForm,
  connectionText,
  coreTime,
  coreTimeProblem,
  defaultForm,
  describeCoreTime,
  describeDetail,
  describeLeft,
  describeSpec,
  formBounds,
  hubUrl,
  ICreateForm,
  idleText,
  limitsLeft,
  reasonText,
  sparkLimits,
  stateLabel,
  suggestName,
  usedAmounts,
  visibleClusters
} from './logic';
import { SparkModel } from './model';
import {
  ICluster,
  ICreateClusterRequest,
  ISparkConnection,
  MAX_IDLE_MINUTES,
  MIN_IDLE_MINUTES,
  SPARK_KERNELS
} from './tokens';

/** Props of {@link SparkPanel}. */
export interface ISparkPanelProps {
  model: SparkModel;
  /** The user (for their Spark limits); `null` before it is known. */
  me: IMe | null;
  /** `PageConfig.getOption('hubHost')`: where hub-relative URLs live. */
  hubHost?: string;
  /** Open a new notebook with a sparkmagic kernel (shows the buttons when given). */
  onNewNotebook?: (kernel: string) => Promise<void> | void;
  /** Ask before terminating; without it, terminate at once. */
  confirmTerminate?: (cluster: ICluster) => Promise<boolean>;
}

/**
 * Spark clusters section: the user's clusters (state, size, start
 * progress, idle auto-termination, why they ended), Connect / Spark UI /
 * Terminate, which cluster Spark notebooks use, and the create form.
 */
export function SparkPanel(props: ISparkPanelProps): JSX.Element {
  return (
    <UseSignal signal={props.model.changed} initialSender={props.model}>
      {() => <SparkContent {...props} />}
    </UseSignal>
  );
}

function SparkContent({
  model,
  me,
  hubHost = '',
  onNewNotebook,
  confirmTerminate
}: ISparkPanelProps): JSX.Element {
  const clusters = model.clusters;
  const connection = model.connection;
  const { shown, hidden } = visibleClusters(clusters ?? []);
  const connectedId = connection?.cluster?.id ?? null;
  const terminate = async (cluster: ICluster): Promise<void> => {
    if (confirmTerminate && !(await confirmTerminate(cluster))) {
      return;
    }
    await model.terminate(cluster.id);
  };
  return (
    <ResourceList
      testIdPrefix="labdeck-spark"
      className="jp-labdeck-spark"
      listClassName="jp-labdeck-spark-clusters"
      error={model.error}
      loading={model.loading}
      items={clusters === null ? null : shown}
      empty="No clusters yet. Create one below, then connect Spark notebooks to it."
      itemKey={cluster => cluster.id}
      renderItem={cluster => (
        <ClusterItem
          cluster={cluster}
          owner={me?.name ?? null}
          connected={cluster.id === connectedId}
          hubHost={hubHost}
          onConnect={() => model.connect(cluster.id)}
          onTerminate={() => terminate(cluster)}
        />
      )}
      header={
        connection?.cluster && (
          <ConnectionBanner
            connection={connection}
            clusters={clusters}
            onNewNotebook={onNewNotebook}
          />
        )
      }
      footer={
        hidden > 0 &&
        `${hidden} older ${hidden === 1 ? 'cluster' : 'clusters'} not shown.`
      }
    >
      <CreateForm
        clusters={clusters ?? []}
        me={me}
        onCreate={request => model.create(request)}
      />
    </ResourceList>
  );
}

/** `Connected: new Spark notebooks run on <name>` and a button per kernel. */
function ConnectionBanner({
  connection,
  clusters,
  onNewNotebook
}: {
  connection: ISparkConnection;
  clusters: ICluster[] | null;
  onNewNotebook?: (kernel: string) => Promise<void> | void;
}): JSX.Element | null {
  const target = connection.cluster;
  if (!target) {
    return null;
  }
  // Until the list is known, trust the connection.
  const state =
    clusters === null
      ? 'RUNNING'
      : (clusters.find(c => c.id === target.id)?.state ?? null);
  const { text, usable } = connectionText(target.name, state);
  return (
    <div
      className={`jp-labdeck-spark-connected${usable ? '' : ' jp-mod-stale'}`}
      role="status"
      data-testid="labdeck-spark-connected"
      data-cluster-id={target.id}
    >
      <p>{text}</p>
      {usable && onNewNotebook && (
        <div className="jp-labdeck-spark-new-notebooks">
          {SPARK_KERNELS.map(({ name, label }) => (
            <Button
              key={name}
              className="jp-mod-styled jp-mod-accept"
              small
              data-testid={`labdeck-spark-new-notebook-${name}`}
              onClick={() => void onNewNotebook(name)}
            >
              New {label} notebook
            </Button>
          ))}
        </div>
      )}
    </div>
  );
}

/** Props of {@link ClusterItem}. */
interface IClusterItemProps {
  cluster: ICluster;
  /** The user; other owners' clusters (admins see them) are labelled. */
  owner: string | null;
  connected: boolean;
  hubHost: string;
  onConnect: () => Promise<unknown>;
  onTerminate: () => Promise<void>;
}

/** One cluster: what it is, where it stands, what can be done with it. */
function ClusterItem({
  cluster,
  owner,
  connected,
  hubHost,
  onConnect,
  onTerminate
}: IClusterItemProps): JSX.Element {
  const { busy, error, run } = useAction<'connect' | 'terminate'>();
  const running = cluster.state === 'RUNNING';
  const now = useNow(running && cluster.idle_terminates_at !== null, 15_000);

  const reason = reasonText(cluster);
  const detail = running ? describeDetail(cluster) : null;
  const idle = running ? idleText(cluster.idle_terminates_at, now) : null;
  const state = cluster.state.toLowerCase();
  return (
    <li
      className={`jp-labdeck-spark-cluster${connected ? ' jp-mod-connected' : ''}`}
      data-testid="labdeck-spark-cluster"
      data-cluster-id={cluster.id}
      data-state={cluster.state}
      data-connected={connected ? 'true' : 'false'}
    >
      <div className="jp-labdeck-spark-cluster-line">
        <span className="jp-labdeck-spark-name" title={cluster.id}>
          {cluster.name}
        </span>
        <span
          className={`jp-labdeck-spark-state jp-mod-${state}`}
          data-testid="labdeck-spark-state"
        >
          {stateLabel(cluster.state)}
        </span>
        {connected && (
          <span
            className="jp-labdeck-badge"
            title="New Spark notebooks run on this cluster"
          >
            connected
          </span>
        )}
      </div>
      <div className="jp-labdeck-muted jp-labdeck-spark-spec">
        {describeSpec(cluster.spec)}
        {owner && cluster.user !== owner ? ` · ${cluster.user}` : ''}
      </div>
      {detail && <div className="jp-labdeck-muted">{detail}</div>}
      {running && (cluster.applications?.length ?? 0) > 0 && (
        <div className="jp-labdeck-muted" data-testid="labdeck-spark-apps">
          Running: {cluster.applications!.map(a => a.name).join(', ')}
        </div>
      )}
      {cluster.state === 'STARTING' && (
        <ProgressMeter
          label="Starting"
          progress={cluster.progress}
          testId="labdeck-spark-progress"
        />
      )}
      {cluster.state === 'TERMINATING' && (
        <div className="jp-labdeck-muted" role="status">
          Terminating…
        </div>
      )}
      {idle && (
        <div className="jp-labdeck-muted" data-testid="labdeck-spark-idle">
          {idle}
        </div>
      )}
      {running && cluster.deadline && (
        <BudgetCountdown
          deadline={cluster.deadline}
          thresholds={cluster.warn_before_seconds}
        />
      )}
      {reason && (
        <p
          className={
            cluster.state === 'FAILED'
              ? 'jp-labdeck-error jp-labdeck-spark-reason'
              : 'jp-labdeck-muted jp-labdeck-spark-reason'
          }
          data-testid="labdeck-spark-reason"
        >
          {reason}
        </p>
      )}
      {(running || cluster.state === 'STARTING') && (
        <div className="jp-labdeck-spark-actions">
          {running && (
            <Button
              className="jp-mod-styled jp-mod-accept"
              small
              disabled={busy !== null}
              data-testid="labdeck-spark-connect"
              title="Run new Spark notebooks on this cluster"
              onClick={() => void run('connect', onConnect)}
            >
              {busy === 'connect'
                ? 'Connecting…'
                : connected
                  ? 'Reconnect'
                  : 'Connect'}
            </Button>
          )}
          {running && (
            <a
              className="jp-labdeck-spark-link"
              href={hubUrl(hubHost, cluster.spark_ui_url)}
              target="_blank"
              rel="noopener noreferrer"
              title="The Spark master UI, in a new browser tab"
              data-testid="labdeck-spark-ui"
            >
              Open Spark UI
              <launchIcon.react
                tag="span"
                className="jp-labdeck-spark-link-icon"
              />
            </a>
          )}
          <Button
            className="jp-mod-styled jp-mod-warn"
            small
            disabled={busy !== null}
            data-testid="labdeck-spark-terminate"
            onClick={() => void run('terminate', onTerminate)}
          >
            {busy === 'terminate' ? 'Terminating…' : 'Terminate'}
          </Button>
        </div>
      )}
      <ActionError error={error} testId="labdeck-spark-action-error" />
    </li>
  );
}

/**
 * `Core time: 00:42:10 left today`: the live countdown to the moment the
 * user's running clusters will have spent their daily core time (they are
 * terminated then), in a warning style in its last stretch, as the
 * session's countdown in the status bar.
 */
function BudgetCountdown({
  deadline,
  thresholds
}: {
  deadline: string;
  thresholds?: number[];
}): JSX.Element | null {
  const now = useNow(true);
  const countdown = formatCountdown(deadline, now);
  if (!countdown) {
    return null;
  }
  const remaining = remainingMilliseconds(deadline, now);
  const text =
    remaining !== null && remaining <= 0
      ? 'Core time used up for today: terminating.'
      : `Core time: ${countdown} today`;
  const warn = isFinalStretch(
    remaining === null ? null : remaining / 1000,
    thresholds ?? DEFAULT_WARN_BEFORE_SECONDS
  );
  return (
    <div
      className={`jp-labdeck-muted jp-labdeck-spark-budget${warn ? ' jp-mod-warn' : ''}`}
      data-testid="labdeck-spark-budget"
      data-warn={warn ? 'true' : 'false'}
      title="When your daily Spark core time runs out, your running clusters are terminated."
    >
      {text}
    </div>
  );
}

/** Props of {@link CreateForm}. */
interface ICreateFormProps {
  clusters: ICluster[];
  me: IMe | null;
  onCreate: (request: ICreateClusterRequest) => Promise<ICluster>;
}

/**
 * Create a cluster: name, workers, cores and memory per worker, idle
 * timeout. Shows what is left of the user's limits and keeps values that
 * cannot start out of reach; the server's refusal is shown as it says it.
 */
function CreateForm({ clusters, me, onCreate }: ICreateFormProps): JSX.Element {
  const [form, setForm] = React.useState<ICreateForm>(() =>
    defaultForm(clusters)
  );
  const [nameEdited, setNameEdited] = React.useState(false);
  const { busy, error, run, clearError } = useAction<'create'>();

  // Keep the suggested name free while the user has not typed one.
  const suggestion = suggestName(clusters);
  React.useEffect(() => {
    if (!nameEdited && form.name !== suggestion) {
      setForm(f => ({ ...f, name: suggestion }));
    }
  }, [nameEdited, suggestion, form.name]);

  const limits = sparkLimits(me?.quota);
  const left = limitsLeft(limits, usedAmounts(clusters, me?.name));
  const bounds = formBounds(form, left);
  const core = coreTime(me);
  const spent = coreTimeProblem(core, Date.now());
  const formCheck = checkForm(form, left);
  // No core time left: the server refuses any cluster, so the form says why.
  const check: typeof formCheck = spent
    ? {
        ok: false,
        problems: [spent, ...(formCheck.ok ? [] : formCheck.problems)]
      }
    : formCheck;
  const leftText =
    [describeLeft(limits, left), describeCoreTime(core)]
      .filter(Boolean)
      .join(' · ') || null;

  const set =
    (key: keyof ICreateForm) =>
    (value: string): void => {
      if (key === 'name') {
        setNameEdited(true);
      }
      setForm(f => ({ ...f, [key]: value }));
      clearError();
    };

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    if (!check.ok || busy) {
      return;
    }
    const request = check.request;
    if (await run('create', () => onCreate(request))) {
      setNameEdited(false);
      setForm(f => ({ ...f, name: '' }));
    }
  };

  return (
    <form
      className="jp-labdeck-create-form"
      aria-label="Create a Spark cluster"
      onSubmit={event => void submit(event)}
    >
      <h3 className="jp-labdeck-form-heading">New cluster</h3>
      {leftText && (
        <p className="jp-labdeck-muted" data-testid="labdeck-spark-limits">
          Left: {leftText}
        </p>
      )}
      <Fields layout="grid" disabled={busy !== null}>
        <TextField
          label="Name"
          wide
          value={form.name}
          maxLength={63}
          required
          testId="labdeck-spark-create-name"
          onChange={set('name')}
        />
        <NumberField
          label="Workers"
          min={1}
          max={bounds.maxWorkers ?? undefined}
          value={form.workers}
          required
          testId="labdeck-spark-create-workers"
          onChange={set('workers')}
        />
        <NumberField
          label="Cores per worker"
          min={1}
          max={bounds.maxCores ?? undefined}
          value={form.cores}
          required
          testId="labdeck-spark-create-cores"
          onChange={set('cores')}
        />
        <SelectField
          label="Memory per worker"
          value={form.memory}
          testId="labdeck-spark-create-memory"
          onChange={set('memory')}
          options={bounds.memory}
        />
        <NumberField
          label="Idle timeout (min)"
          min={MIN_IDLE_MINUTES}
          max={MAX_IDLE_MINUTES}
          value={form.idleMinutes}
          required
          title="Terminate the cluster after this long with nothing running on it"
          testId="labdeck-spark-create-idle"
          onChange={set('idleMinutes')}
        />
      </Fields>
      <FormActions
        testIdPrefix="labdeck-spark-create"
        problems={check.ok ? [] : check.problems}
        label="Create cluster"
        busyLabel="Creating…"
        busy={busy !== null}
        disabled={!check.ok}
        error={error}
      />
    </form>
  );
}
