import { pickSeries } from '../components/seriesChart';
import {
  appendLog,
  EMPTY_LOG,
  gpuSeries,
  metricSeries,
  parseMetricLines,
  validateJobForm
} from '../jobs/logic';
import { IMetricPoint } from '../jobs/tokens';

const chunk = (offset: number, text: string, size = offset + text.length) => ({
  offset,
  next_offset: offset + text.length,
  size,
  text
});

describe('appendLog', () => {
  it('appends a chunk that starts where the last read ended', () => {
    let tail = appendLog(EMPTY_LOG, chunk(0, 'epoch 1\n'));
    tail = appendLog(tail, chunk(8, 'epoch 2\n'));
    expect(tail).toEqual({
      text: 'epoch 1\nepoch 2\n',
      offset: 16,
      truncated: false
    });
  });

  it('keeps the offset when nothing new was written', () => {
    const tail = appendLog(EMPTY_LOG, chunk(0, 'a'));
    expect(appendLog(tail, chunk(1, ''))).toEqual(tail);
  });

  it('starts anew when the server skipped part of the log', () => {
    const tail = appendLog(EMPTY_LOG, chunk(0, 'old'));
    expect(appendLog(tail, chunk(1000, 'late'))).toEqual({
      text: 'late',
      offset: 1004,
      truncated: true
    });
  });

  it('keeps only the end of a long log', () => {
    const tail = appendLog(EMPTY_LOG, chunk(0, 'abcdef'), 4);
    expect(tail).toEqual({ text: 'cdef', offset: 6, truncated: true });
  });
});

describe('metricSeries', () => {
  const point = (
    source: IMetricPoint['source'],
    t: number,
    step: number | null,
    values: Record<string, number>
  ): IMetricPoint => ({ source, t, step, values });

  it('makes one series per metric name by step, merging points', () => {
    const data = metricSeries(
      [
        point('log', 10, 1, { loss: 0.9 }),
        point('script', 11, 1, { acc: 0.5 }),
        point('log', 12, 2, { loss: 0.7 }),
        point('system', 12, null, { cpu_percent: 80 })
      ],
      ['log', 'script']
    );
    expect(data.time).toBe(false);
    expect(data.x).toEqual([1, 2]);
    expect(data.series).toEqual([
      { key: 'acc', label: 'acc', values: [0.5, null] },
      { key: 'loss', label: 'loss', values: [0.9, 0.7] }
    ]);
  });

  it('uses time when a point has no step', () => {
    const data = metricSeries(
      [
        point('system', 20, null, { cpu_percent: 50, memory_bytes: 1e9 }),
        point('system', 10, null, { cpu_percent: 30, memory_bytes: 2e9 })
      ],
      ['system']
    );
    expect(data.time).toBe(true);
    expect(data.x).toEqual([10, 20]);
    expect(data.series.map(s => [s.key, s.values])).toEqual([
      ['cpu_percent', [30, 50]],
      ['memory_bytes', [2e9, 1e9]]
    ]);
  });

  it('is empty without points of the sources', () => {
    expect(metricSeries([], ['log'])).toEqual({
      x: [],
      series: [],
      time: false
    });
  });
});

describe('pickSeries', () => {
  const data = {
    x: [10, 20],
    series: [{ key: 'rss_bytes', label: 'rss_bytes', values: [2048, null] }],
    time: true
  };

  it('keeps one series, renamed and scaled', () => {
    expect(pickSeries(data, 'rss_bytes', 'Memory', 1 / 1024)).toEqual({
      x: [10, 20],
      series: [{ key: 'rss_bytes', label: 'Memory', values: [2, null] }],
      time: true
    });
  });

  it('is empty without that series', () => {
    expect(pickSeries(data, 'cpu_percent', 'CPU').series).toEqual([]);
    expect(pickSeries(data, 'cpu_percent', 'CPU').x).toEqual([]);
  });
});

describe('gpuSeries', () => {
  const data = {
    x: [10, 20],
    series: [
      { key: 'cpu_percent', label: 'cpu_percent', values: [5, 6] },
      {
        key: 'gpu10_memory_bytes',
        label: 'gpu10_memory_bytes',
        values: [4096, 0]
      },
      { key: 'gpu10_utilization_percent', label: 'x', values: [90, 91] },
      {
        key: 'gpu2_memory_bytes',
        label: 'gpu2_memory_bytes',
        values: [null, 2048]
      },
      { key: 'gpu2_utilization_percent', label: 'x', values: [40, null] },
      { key: 'rss_bytes', label: 'rss_bytes', values: [1, 2] }
    ],
    time: true
  };

  it('gives one series per GPU, in device order, named and scaled', () => {
    expect(gpuSeries(data, 'memory_bytes', 1 / 1024)).toEqual({
      x: [10, 20],
      series: [
        { key: 'gpu2_memory_bytes', label: 'GPU 2', values: [null, 2] },
        { key: 'gpu10_memory_bytes', label: 'GPU 10', values: [4, 0] }
      ],
      time: true
    });
    expect(
      gpuSeries(data, 'utilization_percent').series.map(s => s.label)
    ).toEqual(['GPU 2', 'GPU 10']);
  });

  it('is empty for a job without GPUs', () => {
    const cpuOnly = { ...data, series: data.series.slice(0, 1) };
    expect(gpuSeries(cpuOnly, 'utilization_percent')).toEqual({
      x: [],
      series: [],
      time: true
    });
  });
});

describe('parseMetricLines', () => {
  it('reads name=regex lines, skipping blank ones', () => {
    expect(
      parseMetricLines('loss=loss: ([0-9.]+)\n\n acc = acc=(\\d+) ')
    ).toEqual({
      definitions: [
        { name: 'loss', regex: 'loss: ([0-9.]+)' },
        { name: 'acc', regex: 'acc=(\\d+)' }
      ],
      problems: []
    });
  });

  it('says which lines are wrong', () => {
    const { problems } = parseMetricLines('loss\n=x\nloss=a\nloss=b');
    expect(problems).toEqual([
      'Metric line 1: write name=regex, e.g. loss=loss: ([0-9.]+).',
      'Metric line 2: write name=regex, e.g. loss=loss: ([0-9.]+).',
      'Metric line 4: loss is defined twice.'
    ]);
  });
});

describe('validateJobForm', () => {
  const form = {
    name: '',
    script: 'exp/train.py',
    profile: 'cpu',
    maxRuntimeMinutes: '30',
    metrics: 'loss=loss: (\\S+)'
  };

  it('builds the request, naming the job after its script', () => {
    expect(validateJobForm(form)).toEqual({
      request: {
        name: 'train',
        script: 'exp/train.py',
        profile: 'cpu',
        max_runtime_seconds: 1800,
        metric_definitions: [{ name: 'loss', regex: 'loss: (\\S+)' }]
      },
      problems: []
    });
  });

  it('refuses scripts outside the home folder and bad limits', () => {
    for (const script of ['/etc/passwd', '../bob/x.py', '']) {
      expect(validateJobForm({ ...form, script }).request).toBeNull();
    }
    for (const maxRuntimeMinutes of ['0', '-5', '', 'abc']) {
      expect(validateJobForm({ ...form, maxRuntimeMinutes }).problems).toEqual([
        'The runtime limit must be a positive number of minutes.'
      ]);
    }
  });
});
