// `flstm chart RUN...`: the runs' metrics (RUN/metrics.jsonl) overlaid in one SVG, against
// training time or step. No GPU needed.
import { basename, join } from 'node:path';
import { readMetrics } from '../train/metrics.js';
import { writeSvg } from '../train/chart.js';
import { renderOverlayChart, type OverlayRun } from '../train/overlay_chart.js';
import { HELP_OPTION, JSON_OPTION, stringOption, UsageError } from './args.js';
import type { Command } from './command.js';

/** Run labels: the folder names, or the paths where two folders share a name. */
export function runLabels(dirs: readonly string[]): string[] {
  const names = dirs.map((d) => basename(d.replace(/\/+$/, '')) || d);
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? dirs[i]! : n));
}

export async function readRuns(dirs: readonly string[], labels = runLabels(dirs)): Promise<OverlayRun[]> {
  return Promise.all(dirs.map(async (d, i) => ({ label: labels[i]!, records: await readMetrics(join(d, 'metrics.jsonl')) })));
}

export const chartCommand: Command = {
  name: 'chart',
  summary: "overlay runs' training loss and validation perplexity in one SVG chart (no GPU needed)",
  positionals: 'RUN...',
  options: [
    { name: 'out', value: 'FILE', help: 'the SVG file to write (default chart.svg)' },
    { name: 'x', value: 'time|step', help: 'the x axis: training time (default) or step' },
    { name: 'title', value: 'TEXT', help: 'the chart title' },
    JSON_OPTION,
    HELP_OPTION,
  ],
  async run(values, runs) {
    if (runs.length === 0) throw new UsageError('flstm chart: give one or more run folders (each holds a metrics.jsonl)');
    const x = (values.x as string | undefined) ?? 'time';
    if (x !== 'time' && x !== 'step') throw new UsageError(`flstm chart: --x must be time or step, got '${x}'`);
    const out = stringOption(values, 'chart', 'out', { what: 'a file name' }) ?? 'chart.svg';
    const data = await readRuns(runs);
    await writeSvg(out, renderOverlayChart(data, { x, title: (values.title as string | undefined) ?? `flstm: ${data.map((r) => r.label).join(', ')}` }));
    const valid = data.map((r) => r.records.filter((m) => m.split === 'valid').length);
    if (values.json) console.log(JSON.stringify({ out, runs: data.map((r, i) => ({ run: runs[i], label: r.label, records: r.records.length, validations: valid[i] })) }));
    else console.log(`wrote ${out}: ${data.map((r, i) => `${r.label} (${valid[i]} validation${valid[i] === 1 ? '' : 's'})`).join(', ')}`);
  },
};
