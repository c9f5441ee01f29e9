import { MainAreaWidget } from '@jupyterlab/apputils';
import { Button, InputGroup, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { labdeckIcon } from '../icon';
import { LabdeckModel } from '../model';
import {
  DEFAULT_REPORT_DAYS,
  IProfile,
  ITimeGrant,
  IUsageQuery,
  IUsageReport,
  USAGE_REPORT_ID
} from '../tokens';
import {
  downloadUsageCsv,
  fetchUsageReport,
  grantOneDay,
  grantTime,
  IGrantResult
} from './api';
import { UsageBarChart } from './chart';
import { CoursesSection } from './courses';
import { seriesKeys, seriesTotals, totalBars, userBars } from './chartData';
import { GrantForm } from './grantForm';
import { seriesLabel } from './kinds';
import { defaultPeriod, IPeriod, periodQuery } from './period';
import { UsageTable } from './usageTable';

/** What the report calls; tests replace it. */
export interface IUsageReportApi {
  fetchReport: (query: IUsageQuery) => Promise<IUsageReport>;
  downloadCsv: (query: IUsageQuery) => Promise<string>;
  grant: (
    user: string,
    profile: string,
    hours: number
  ) => Promise<IGrantResult>;
  grantOneDay: (
    user: string,
    profile: string,
    hours: number,
    note: string,
    date?: string
  ) => Promise<ITimeGrant>;
}

/** The real API. */
export const defaultUsageReportApi: IUsageReportApi = {
  fetchReport: query => fetchUsageReport(query),
  downloadCsv: query => downloadUsageCsv(query),
  grant: (user, profile, hours) => grantTime(user, profile, hours),
  grantOneDay: (user, profile, hours, note, date) =>
    grantOneDay(user, profile, hours, note, date)
};

/** Props of {@link UsageReport}. */
export interface IUsageReportProps {
  /** Runtime profiles, for names and the grant form. */
  profiles: IProfile[];
  api?: IUsageReportApi;
  /** Clock for the default period (epoch ms). */
  now?: number;
}

/**
 * The admin usage report: period and group filters, charts (time per
 * user stacked by session runtime, then training jobs and Spark core time;
 * totals per runtime or kind and per group), the table, CSV download and
 * the "Grant time" form.
 */
export function UsageReport({
  profiles,
  api = defaultUsageReportApi,
  now
}: IUsageReportProps): JSX.Element {
  const [period, setPeriod] = React.useState<IPeriod>(() =>
    defaultPeriod(now ?? Date.now(), DEFAULT_REPORT_DAYS)
  );
  const [group, setGroup] = React.useState('');
  const [report, setReport] = React.useState<IUsageReport | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [csvBusy, setCsvBusy] = React.useState(false);
  // Only the answer of the latest request is shown.
  const latest = React.useRef(0);

  const load = React.useCallback(
    async (wanted: IPeriod, wantedGroup: string): Promise<void> => {
      const id = ++latest.current;
      let query: IUsageQuery;
      try {
        query = periodQuery(wanted, wantedGroup);
      } catch (reason) {
        setError(message(reason));
        return;
      }
      setLoading(true);
      setError(null);
      try {
        const answer = await api.fetchReport(query);
        if (id === latest.current) {
          setReport(answer);
        }
      } catch (reason) {
        if (id === latest.current) {
          setError(message(reason));
        }
      } finally {
        if (id === latest.current) {
          setLoading(false);
        }
      }
    },
    [api]
  );

  // First load with the default period; later ones on submit.
  const initial = React.useRef({ period, group });
  React.useEffect(() => {
    void load(initial.current.period, initial.current.group);
  }, [load]);

  const download = async (): Promise<void> => {
    setCsvBusy(true);
    setError(null);
    try {
      await api.downloadCsv(periodQuery(period, group));
    } catch (reason) {
      setError(message(reason));
    } finally {
      setCsvBusy(false);
    }
  };

  return (
    <div className="jp-labdeck-report" data-testid="labdeck-usage-report">
      <h1 className="jp-labdeck-report-title">Usage report</h1>
      <form
        className="jp-labdeck-form-row"
        aria-label="Report period"
        onSubmit={event => {
          event.preventDefault();
          void load(period, group);
        }}
      >
        <label>
          From
          <InputGroup
            type="date"
            value={period.since}
            data-testid="labdeck-usage-since"
            onChange={event =>
              setPeriod({ ...period, since: event.target.value })
            }
          />
        </label>
        <label>
          To
          <InputGroup
            type="date"
            value={period.until}
            data-testid="labdeck-usage-until"
            onChange={event =>
              setPeriod({ ...period, until: event.target.value })
            }
          />
        </label>
        <label>
          Group
          <InputGroup
            type="text"
            value={group}
            placeholder="all users"
            data-testid="labdeck-usage-group"
            onChange={event => setGroup(event.target.value)}
          />
        </label>
        <Button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={loading}
          data-testid="labdeck-usage-show"
        >
          {loading ? 'Loading…' : 'Show'}
        </Button>
        <Button
          type="button"
          className="jp-mod-styled jp-mod-reject"
          disabled={csvBusy}
          data-testid="labdeck-usage-csv"
          onClick={() => void download()}
        >
          {csvBusy ? 'Downloading…' : 'Download CSV'}
        </Button>
      </form>
      {error && (
        <p
          className="jp-labdeck-error"
          role="alert"
          data-testid="labdeck-usage-error"
        >
          {error}
        </p>
      )}
      {report && <ReportBody report={report} profiles={profiles} />}
      <GrantForm
        profiles={profiles}
        grant={api.grant}
        grantOneDay={api.grantOneDay}
      />
    </div>
  );
}

/** Charts and table of a loaded report. */
function ReportBody({
  report,
  profiles
}: {
  report: IUsageReport;
  profiles: IProfile[];
}): JSX.Element {
  const order = profiles.map(p => p.name);
  const series = seriesKeys(report.rows, order);
  const label = (key: string): string => seriesLabel(profiles, key);
  const users = new Set(report.rows.map(r => r.user)).size;
  return (
    <>
      <p className="jp-labdeck-muted" data-testid="labdeck-usage-summary">
        {`${users} ${users === 1 ? 'user' : 'users'} · ${formatPeriod(report)}` +
          (report.group ? ` · group ${report.group}` : '')}
      </p>
      <div className="jp-labdeck-charts" data-testid="labdeck-usage-chart">
        <UsageBarChart
          title="Time per user"
          bars={userBars(report.rows, order)}
          series={series}
          seriesLabel={label}
          testId="labdeck-usage-chart-users"
        />
        <UsageBarChart
          title="Time per runtime"
          bars={totalBars(seriesTotals(report.rows), key => key).map(bar => ({
            ...bar,
            label: label(bar.label)
          }))}
          series={series}
          seriesLabel={label}
          testId="labdeck-usage-chart-profiles"
        />
        <UsageBarChart
          title="Time per group"
          bars={totalBars(report.totals.by_group)}
          series={['total']}
          seriesLabel={label}
          testId="labdeck-usage-chart-groups"
        />
      </div>
      <UsageTable
        rows={report.rows}
        profiles={profiles}
        grants={report.grants}
      />
    </>
  );
}

/** `18 Nov 2026 – 25 Nov 2026` (the last day included). */
function formatPeriod(report: IUsageReport): string {
  const since = new Date(report.since);
  // `until` is exclusive: show the day before when it is a midnight.
  const until = new Date(new Date(report.until).getTime() - 1);
  const day = (date: Date): string =>
    Number.isNaN(date.getTime())
      ? '?'
      : date.toLocaleDateString('en-GB', {
          day: 'numeric',
          month: 'short',
          year: 'numeric'
        });
  return `${day(since)} – ${day(until)}`;
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * The report as a widget; it reads the runtime profiles from the shared
 * model (re-rendering when they change).
 */
export class UsageReportWidget extends ReactWidget {
  constructor(options: UsageReportWidget.IOptions) {
    super();
    this._model = options.model;
    this._api = options.api ?? defaultUsageReportApi;
    this.addClass('jp-labdeck-report-widget');
    this._model.changed.connect(this._onModelChanged, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onModelChanged, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <>
        <UsageReport
          profiles={this._model.me?.profiles ?? []}
          api={this._api}
        />
        <CoursesSection />
      </>
    );
  }

  private _onModelChanged(): void {
    const profiles = this._model.me?.profiles ?? [];
    // Re-render only when the profiles changed: the report keeps its state
    // either way, but there is no need to redraw every poll.
    const key = JSON.stringify(profiles);
    if (key !== this._profilesKey) {
      this._profilesKey = key;
      this.update();
    }
  }

  private _api: IUsageReportApi;
  private _model: LabdeckModel;
  private _profilesKey = '';
}

/** Statics of {@link UsageReportWidget}. */
export namespace UsageReportWidget {
  export interface IOptions {
    model: LabdeckModel;
    api?: IUsageReportApi;
  }
}

/** The report in a main-area tab. */
export function createUsageReport(
  model: LabdeckModel
): MainAreaWidget<UsageReportWidget> {
  const content = new UsageReportWidget({ model });
  const widget = new MainAreaWidget({ content });
  widget.id = USAGE_REPORT_ID;
  widget.title.label = 'Usage report';
  widget.title.caption = 'labdeck usage report (admin)';
  widget.title.icon = labdeckIcon;
  widget.title.closable = true;
  return widget;
}
