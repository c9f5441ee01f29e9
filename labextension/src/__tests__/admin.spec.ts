import {
  attachmentName,
  downloadUsageCsv,
  grantOneDay,
  grantTime
} from '../admin/api';
import { planGrant, planOneOffGrant } from '../admin/grant';
import {
  defaultPeriod,
  fromDateInput,
  periodQuery,
  usageEndpoint
} from '../admin/period';
import { LabdeckRequestError } from '../request';

describe('period', () => {
  const now = new Date(2026, 10, 25, 15, 30).getTime();

  it('defaults to the last days, today included', () => {
    expect(defaultPeriod(now, 7)).toEqual({
      since: '2026-11-19',
      until: '2026-11-25'
    });
  });

  it('turns local dates into an ISO period with an exclusive end', () => {
    const query = periodQuery({ since: '2026-11-19', until: '2026-11-25' });
    expect(query.since).toBe(new Date(2026, 10, 19).toISOString());
    expect(query.until).toBe(new Date(2026, 10, 26).toISOString());
    expect(query.group).toBeUndefined();
    expect(
      periodQuery({ since: '2026-11-19', until: '2026-11-19' }, ' class-a ')
        .group
    ).toBe('class-a');
  });

  it('refuses bad periods readably', () => {
    expect(() => periodQuery({ since: '', until: '2026-11-19' })).toThrow(
      'Choose both dates'
    );
    expect(() =>
      periodQuery({ since: '2026-11-20', until: '2026-11-19' })
    ).toThrow('must not be after');
    expect(fromDateInput('2026-02-30')).toBeNull();
  });

  it('builds the endpoint with its query', () => {
    const endpoint = usageEndpoint(
      {
        since: '2026-11-19T00:00:00.000Z',
        until: '2026-11-26T00:00:00.000Z',
        group: 'a b'
      },
      'csv'
    );
    expect(endpoint).toBe(
      'admin/usage?since=2026-11-19T00%3A00%3A00.000Z&until=2026-11-26T00%3A00%3A00.000Z&group=a+b&format=csv'
    );
  });
});

describe('planGrant', () => {
  const quota = {
    gpu: { session_seconds: 14400, daily_seconds: 14400 },
    cpu: { session_seconds: null, daily_seconds: null },
    storage_bytes: 15e9
  };

  it('raises daily_seconds of one profile', () => {
    expect(planGrant(quota, 'alice', 'gpu', 2)).toEqual({
      update: { gpu: { daily_seconds: 21600 } },
      beforeSeconds: 14400,
      afterSeconds: 21600
    });
  });

  it('refuses nonsense', () => {
    expect(() => planGrant(quota, 'alice', 'gpu', 0)).toThrow('positive');
    expect(() => planGrant(quota, 'alice', 'gpu', Number.NaN)).toThrow(
      'positive'
    );
    expect(() => planGrant(quota, 'alice', 'cpu', 1)).toThrow(
      'no daily limit on cpu'
    );
  });
});

describe('grantTime', () => {
  it('reads the quota then puts the raised budget', async () => {
    const request = jest
      .fn()
      .mockResolvedValueOnce({ gpu: { daily_seconds: 14400 } })
      .mockResolvedValueOnce({
        gpu: { session_seconds: 14400, daily_seconds: 21600 }
      });
    const result = await grantTime('al ice', 'gpu', 2, request);
    expect(request.mock.calls[0]).toEqual(['admin/users/al%20ice/quota']);
    expect(request.mock.calls[1]).toEqual([
      'admin/users/al%20ice/quota',
      { method: 'PUT', body: '{"gpu":{"daily_seconds":21600}}' }
    ]);
    expect(result.beforeSeconds).toBe(14400);
    expect(result.afterSeconds).toBe(21600);
  });

  it("passes the server's error through", async () => {
    const request = jest
      .fn()
      .mockRejectedValue(
        new LabdeckRequestError(
          "There is no hub user called 'zed'.",
          404,
          'not_found'
        )
      );
    await expect(grantTime('zed', 'gpu', 1, request)).rejects.toThrow(
      "There is no hub user called 'zed'."
    );
  });
});

describe('planOneOffGrant', () => {
  it('turns hours into seconds and trims the note', () => {
    expect(planOneOffGrant('gpu', 2, ' exam week ')).toEqual({
      profile: 'gpu',
      seconds: 7200,
      note: 'exam week'
    });
    expect(planOneOffGrant('cpu', 0.5, 'x', '2026-11-27')).toEqual({
      profile: 'cpu',
      seconds: 1800,
      note: 'x',
      date: '2026-11-27'
    });
  });

  it('refuses what the server would refuse', () => {
    expect(() => planOneOffGrant('gpu', 0, 'x')).toThrow(
      '1 minute to 24 hours'
    );
    expect(() => planOneOffGrant('gpu', 25, 'x')).toThrow('24 hours');
    expect(() => planOneOffGrant('gpu', Number.NaN, 'x')).toThrow('24 hours');
    expect(() => planOneOffGrant('gpu', 1, '  ')).toThrow('note');
    expect(() => planOneOffGrant('gpu', 1, 'x'.repeat(501))).toThrow('note');
    expect(() => planOneOffGrant('gpu', 1, 'x', '27/11/2026')).toThrow(
      '2026-11-25'
    );
  });
});

describe('grantOneDay', () => {
  it('posts the grant for the user', async () => {
    const grant = { id: 1, user: 'al ice', seconds: 7200 };
    const request = jest.fn().mockResolvedValue(grant);
    expect(
      await grantOneDay('al ice', 'gpu', 2, 'why', undefined, request)
    ).toBe(grant);
    expect(request).toHaveBeenCalledWith('admin/users/al%20ice/grants', {
      method: 'POST',
      body: '{"profile":"gpu","seconds":7200,"note":"why"}'
    });
  });

  it('sends nothing when the form is wrong', async () => {
    const request = jest.fn();
    await expect(
      grantOneDay('bob', 'gpu', 2, '', undefined, request)
    ).rejects.toThrow('note');
    expect(request).not.toHaveBeenCalled();
  });
});

describe('CSV download', () => {
  it('reads the attachment name', () => {
    expect(
      attachmentName('attachment; filename="labdeck-usage-1-2.csv"', 'x.csv')
    ).toBe('labdeck-usage-1-2.csv');
    expect(attachmentName(null, 'x.csv')).toBe('x.csv');
  });

  it('saves the answer through a temporary link', async () => {
    const createObjectURL = jest.fn(() => 'blob:report');
    const revokeObjectURL = jest.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicked: string[] = [];
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function (this: HTMLAnchorElement) {
        clicked.push(`${this.download} ${this.href}`);
      });
    const request = jest.fn().mockResolvedValue(
      new Response('user,groups\n', {
        status: 200,
        headers: {
          'Content-Type': 'text/csv',
          'Content-Disposition': 'attachment; filename="report.csv"'
        }
      })
    );
    const name = await downloadUsageCsv({ since: 's', until: 'u' }, request);
    expect(request).toHaveBeenCalledWith(
      'admin/usage?since=s&until=u&format=csv'
    );
    expect(name).toBe('report.csv');
    expect(clicked).toEqual(['report.csv blob:report']);
    expect(document.querySelector('a[download]')).toBeNull();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:report');
    click.mockRestore();
  });
});
