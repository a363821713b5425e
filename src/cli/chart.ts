// `flstm chart RUN...`: the runs' metrics (RUN/metrics.jsonl) overlaid in one SVG, against
// training time or step. No GPU needed.
import { basename, join } from 'node:path';
import { readMetrics } from '../train/metrics.js';
import { writeSvg } from '../train/chart.js';
import { renderOverlayChart, type OverlayRun } from '../train/overlay_chart.js';
import { HELP_OPTION, JSON_OPTION, UsageError } from './args.js';
import { anyText, choice, readOption, text } from '../options/declare.js';
import type { Command } from './command.js';

/** Run labels: the folder names, or the paths where two folders share a name. */
export function runLabels(dirs: readonly string[]): string[] {
  const names = dirs.map((d) => basename(d.replace(/\/+$/, '')) || d);
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? dirs[i]! : n));
}

export async function readRuns(dirs: readonly string[], labels = runLabels(dirs)): Promise<OverlayRun[]> {
  return Promise.all(dirs.map(async (d, i) => ({ label: labels[i]!, records: await readMetrics(join(d, 'metrics.jsonl')) })));
}

const OUT = { name: 'out', value: 'FILE', reader: text('a file name'), help: 'the SVG file to write', default: 'chart.svg' };
const X_AXIS = {
  name: 'x',
  reader: choice(['time', 'step'] as const),
  help: 'the x axis: training time or step',
  default: 'time' as const,
};
const TITLE = { name: 'title', value: 'TEXT', reader: anyText, help: 'the chart title', defaultText: "flstm: and the runs' labels" };

export const chartCommand: Command = {
  name: 'chart',
  summary: "overlay runs' training loss and validation perplexity in one SVG chart (no GPU needed)",
  positionals: 'RUN...',
  options: [OUT, X_AXIS, TITLE, JSON_OPTION, HELP_OPTION],
  async run(values, runs) {
    if (runs.length === 0) throw new UsageError('flstm chart: give one or more run folders (each holds a metrics.jsonl)');
    const x = readOption(values, 'chart', X_AXIS);
    const out = readOption(values, 'chart', OUT);
    const data = await readRuns(runs);
    await writeSvg(
      out,
      renderOverlayChart(data, { x, title: readOption(values, 'chart', TITLE) ?? `flstm: ${data.map((r) => r.label).join(', ')}` }),
    );
    const valid = data.map((r) => r.records.filter((m) => m.split === 'valid').length);
    if (values.json)
      console.log(
        JSON.stringify({
          out,
          runs: data.map((r, i) => ({ run: runs[i], label: r.label, records: r.records.length, validations: valid[i] })),
        }),
      );
    else console.log(`wrote ${out}: ${data.map((r, i) => `${r.label} (${valid[i]} validation${valid[i] === 1 ? '' : 's'})`).join(', ')}`);
  },
};
