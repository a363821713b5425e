// The demo page (dist/web/index.html): pick a cell, a size and a text, train with a live
// chart, generate at any time, save and load .safetensors models. Published for automation:
// window.flstmDemo = { state, step, loss, adapter, error?, ... }; URL parameters
// ?cell=lstm|flstm|glstm&size=tiny|small|medium&steps=N&autorun=1 start a run without clicks;
// ?maxBindingBytes=64KiB plans bindings that small (the tables are then stored in row shards).
// The steps field (and ?steps=N) is how many more steps each Train runs: pressing Train again
// trains on from where the model is, and the hint under it names the step it will reach.
import { init } from '../engine.js';
import { parseBindingCap } from '../gpu/binding_cap.js';
import { formatBytes } from '../train/bytes.js';
import { renderChart } from '../train/chart.js';
import type { CheckpointConfig } from '../train/config.js';
import { CELL_NAMES, SIZES, Session, trainConfigFor, type CellKind, type NamedFile } from './session.js';
import { CELL_KINDS, cellSpec, type SizeOption } from '../nn/cells.js';
import { detokenize, wordCount } from './text.js';
import { UnknownWordsError } from './known_words.js';

type DemoStateName = 'idle' | 'training' | 'done' | 'error';

export interface FlstmDemo {
  state: DemoStateName;
  step: number;
  loss: number | null;
  adapter: string | null;
  error?: string;
  /** Every loss report of this page: { step, loss }. */
  history: { step: number; loss: number }[];
  ppl: number | null;
  wordsPerSec: number | null;
  params: number;
  /** The row shards of the model's tables (embedding, softmax weights, bias). */
  tableShards: number[];
  /** The last generated text (prompt included). */
  generated: string | null;
  /**
   * The model loaded from a file, if any: where from, its step and cell, the optimizer file
   * whose state it continues with (null: a fresh optimizer), whether it carries its LSTM state.
   */
  checkpoint: { source: string; step: number; cell: string; vocab: number; optimizer: string | null; carriedState: boolean } | null;
  /** Text of the last save (file name and size), if any. */
  saved: { name: string; bytes: number } | null;
}

declare global {
  interface Window {
    flstmDemo: FlstmDemo;
  }
}

const demo: FlstmDemo = {
  state: 'idle',
  step: 0,
  loss: null,
  adapter: null,
  history: [],
  ppl: null,
  wordsPerSec: null,
  params: 0,
  tableShards: [],
  generated: null,
  checkpoint: null,
  saved: null,
};
window.flstmDemo = demo;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const els = {
  adapter: $('adapter'),
  adapterText: $('adapter-text'),
  nogpu: $('nogpu'),
  nogpuTitle: $('nogpu-title'),
  nogpuText: $('nogpu-text'),
  cell: $('cell'),
  cellHint: $('cell-hint'),
  size: $<HTMLSelectElement>('size'),
  sizeHint: $('size-hint'),
  source: $('source'),
  ownText: $('own-text'),
  textDrop: $('text-drop'),
  textFile: $<HTMLInputElement>('text-file'),
  paste: $<HTMLTextAreaElement>('paste'),
  textHint: $('text-hint'),
  steps: $<HTMLInputElement>('steps'),
  stepsHint: $('steps-hint'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  reset: $<HTMLButtonElement>('reset'),
  sStep: $('s-step'),
  sLoss: $('s-loss'),
  sPpl: $('s-ppl'),
  sWps: $('s-wps'),
  sParams: $('s-params'),
  chart: $('chart'),
  status: $('status'),
  genForm: $<HTMLFormElement>('gen-form'),
  prompt: $<HTMLInputElement>('prompt'),
  genTokens: $<HTMLInputElement>('gen-tokens'),
  temperature: $<HTMLInputElement>('temperature'),
  generate: $<HTMLButtonElement>('generate'),
  sample: $('sample'),
  save: $<HTMLButtonElement>('save'),
  ckDrop: $('ck-drop'),
  ckFile: $<HTMLInputElement>('ck-file'),
  ckStatus: $('ck-status'),
};

/** A cell's size option as the page words it: in the size hint, and in a loaded model's description. */
const SIZE_WORDS: Record<SizeOption, { hint: (v: unknown) => string; described: (v: unknown) => string }> = {
  factor: { hint: (v) => `rank r = ${String(v)}`, described: (v) => `r = ${String(v)}` },
  groups: { hint: (v) => `${String(v)} groups`, described: (v) => `${String(v)} groups` },
};

const session = new Session();
const ui = {
  cell: 'glstm' as CellKind,
  size: 'small',
  source: 'brown' as 'brown' | 'own',
  ownText: null as { name: string; text: string } | null,
  /** The cell / size / text the current model was made for ('loaded' for a loaded model). */
  modelKey: null as string | null,
  /** The step the current run trains to (null: not training). */
  target: null as number | null,
  stopRequested: false,
  busy: false,
};
let brown: Promise<string> | null = null;
let genSeed = 1;

// ---- small helpers ----------------------------------------------------------------------

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
function fmtCompact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return fmtInt(n);
}

function setStatus(text: string, state: DemoStateName | 'info' = 'info'): void {
  els.status.textContent = text;
  els.status.dataset.state = state;
}

function setState(state: DemoStateName, error?: string): void {
  demo.state = state;
  if (error !== undefined) demo.error = error;
  else delete demo.error;
}

function fail(e: unknown, where: string): void {
  const msg = e instanceof Error ? e.message : String(e);
  setState('error', msg);
  setStatus(`${where}: ${msg}`, 'error');
  console.warn(`flstm demo: ${where}:`, e); // a warning: the page shows the error itself
}

function segValue(seg: HTMLElement, value: string): void {
  seg.querySelectorAll<HTMLButtonElement>('button').forEach((b) => b.setAttribute('aria-checked', String(b.dataset.value === value)));
}

function onSeg(seg: HTMLElement, fn: (value: string) => void): void {
  seg.addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest('button');
    if (b?.dataset.value && !b.disabled) fn(b.dataset.value);
  });
}

function currentKey(): string {
  return `${ui.cell}/${ui.size}/${ui.source === 'brown' ? 'brown' : `own:${ui.ownText?.name ?? 'pasted'}:${textOfOwn().length}`}`;
}

function textOfOwn(): string {
  return els.paste.value.trim() !== '' ? els.paste.value : (ui.ownText?.text ?? '');
}

async function trainingText(): Promise<{ text: string; source: string; data: string }> {
  if (ui.source === 'brown') {
    brown ??= fetch('brown-excerpt.txt').then((r) => {
      if (!r.ok) throw new Error(`brown-excerpt.txt: HTTP ${r.status}`);
      return r.text();
    });
    return { text: await brown, source: 'the Brown corpus excerpt', data: 'web:brown-excerpt' };
  }
  const text = textOfOwn();
  if (text.trim() === '') throw new Error('no text yet: drop a .txt file or paste some text');
  const name = els.paste.value.trim() !== '' ? 'pasted text' : ui.ownText!.name;
  return { text, source: name, data: `web:${name}` };
}

// ---- rendering ---------------------------------------------------------------------------

function sizeHint(): string {
  const s = SIZES[ui.size];
  const option = cellSpec(ui.cell).size;
  const cellPart = option ? `, ${SIZE_WORDS[option].hint(s[option])}` : '';
  return `${s.layers} layer${s.layers > 1 ? 's' : ''} of ${s.hidden} cells${cellPart}, projection ${s.proj}, embedding ${s.emb}; vocabulary up to ${fmtInt(s.maxVocab)} words; batches of ${s.batch} × ${s.bptt} words.`;
}

function renderSetup(): void {
  segValue(els.cell, ui.cell);
  segValue(els.source, ui.source);
  els.size.value = ui.size;
  els.cellHint.textContent = cellSpec(ui.cell).description;
  els.sizeHint.textContent =
    ui.modelKey === 'loaded' && session.config
      ? `Loaded model: ${describeConfig()}. Change the cell or size to start a new one.`
      : sizeHint();
  els.ownText.hidden = ui.source !== 'own';
  renderStepsHint();
}

/** Steps the next Train runs: the field's value, at least 1. */
function moreSteps(): number {
  return Math.max(1, Math.floor(Number(els.steps.value) || 1));
}

/** Whether the next Train starts a new model (none yet, or another cell, size or text picked). */
function trainMakesNewModel(): boolean {
  return !session.model || (ui.modelKey !== currentKey() && ui.modelKey !== 'loaded');
}

/** Under the steps field: the step the next Train starts from and the one it reaches. */
function renderStepsHint(): void {
  if (ui.target !== null) {
    els.stepsHint.textContent = `Training to step ${fmtInt(ui.target)}.`;
    return;
  }
  const n = moreSteps();
  els.stepsHint.textContent = trainMakesNewModel()
    ? `Train runs ${fmtInt(n)} steps of a new model: step 0 → ${fmtInt(n)}.`
    : `Train runs ${fmtInt(n)} more steps: step ${fmtInt(session.step)} → ${fmtInt(session.step + n)}.`;
}

function describeConfig(): string {
  const m = session.config!.model;
  const option = cellSpec(m.cell).size;
  const extra = option ? `, ${SIZE_WORDS[option].described(m[option])}` : '';
  return `${CELL_NAMES[m.cell]}, ${m.layers} × ${m.hidden} cells${extra}, projection ${m.proj || 'none'}, vocabulary ${fmtInt(session.vocab!.size)}`;
}

let chartQueued = false;
function renderChartSoon(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    renderChartNow();
  });
}

/** Below this width the chart is fitted to it (fitNarrowChart). */
const NARROW_CHART = 560;

function renderChartNow(): void {
  // Drawn at the width it is shown at, so that its text keeps its size on a narrow screen.
  const width = Math.max(320, Math.round(els.chart.clientWidth || 760));
  const narrow = width < NARROW_CHART;
  // A narrow chart is taller than its width would make it, so each panel keeps room for its axis title.
  const height = narrow ? 400 : Math.round(Math.min(440, Math.max(320, width * 0.52)));
  const cfg = session.config;
  const title = cfg ? `${CELL_NAMES[cfg.model.cell]} · ${session.corpus?.source ?? session.loadedFrom ?? ''}` : 'flstm training';
  els.chart.innerHTML = renderChart(session.records, { width, height, title });
  const svg = els.chart.querySelector('svg');
  if (svg && narrow) fitNarrowChart(svg, width);
}

/** Shorter axis titles for a narrow chart, whose panels are too short for the long ones. */
const NARROW_AXIS_TITLES: [RegExp, string][] = [
  [/ \(nats\)$/, ''],
  [/, sampled softmax/, ' (sampled)'],
  [/^validation perplexity/, 'validation ppl'],
];

/**
 * The chart lays out its header for a wide chart: the legend at the top right, the title and
 * the summary line after the y axis labels. On a narrow one they would overlap and run off the
 * edge, so the legend goes (each panel's axis title names its series), the title and the
 * summary start at the left edge and are cut to the width with an ellipsis, and the axis
 * titles are shortened to fit their panels.
 */
function fitNarrowChart(svg: SVGSVGElement, width: number): void {
  svg.querySelector('g.legend')?.remove();
  const margin = 12;
  for (const text of Array.from(svg.querySelectorAll('text'))) {
    if (text.getAttribute('transform')?.startsWith('rotate(')) {
      for (const [long, short] of NARROW_AXIS_TITLES) text.textContent = (text.textContent ?? '').replace(long, short);
    } else if (text.parentNode === svg && ['24', '44'].includes(text.getAttribute('y') ?? '')) {
      text.setAttribute('x', String(margin));
      ellipsize(text, width - 2 * margin);
    }
  }
}

/** Cuts an SVG text to `max` pixels, ending it with an ellipsis. */
function ellipsize(text: SVGTextElement, max: number): void {
  const full = text.textContent ?? '';
  for (let n = full.length; n > 1 && text.getComputedTextLength() > max; n--) text.textContent = `${full.slice(0, n - 1).trimEnd()}…`;
}

function renderStats(): void {
  els.sStep.textContent = fmtInt(session.step);
  els.sLoss.textContent = demo.loss === null ? '–' : demo.loss.toFixed(3);
  els.sPpl.textContent = demo.ppl === null ? '–' : demo.ppl >= 1e4 ? fmtCompact(demo.ppl) : demo.ppl.toFixed(1);
  els.sWps.textContent = demo.wordsPerSec === null ? '–' : fmtCompact(demo.wordsPerSec);
  els.sParams.textContent = session.model ? fmtCompact(session.params) : '–';
  demo.step = session.step;
  demo.params = session.params;
  demo.tableShards = session.model?.tables.map((t) => t.shards.length) ?? [];
  renderStepsHint();
}

function renderButtons(): void {
  const training = demo.state === 'training';
  const gpu = demo.adapter !== null;
  els.train.disabled = !gpu || training || ui.busy;
  els.stop.disabled = !training;
  els.reset.disabled = training || !session.model;
  els.generate.disabled = !session.model;
  els.save.disabled = !session.model || ui.busy;
  els.cell.querySelectorAll('button').forEach((b) => (b.disabled = training));
  els.source.querySelectorAll('button').forEach((b) => (b.disabled = training));
  els.size.disabled = training;
}

function renderAll(): void {
  renderSetup();
  renderStats();
  renderButtons();
  renderChartSoon();
}

// ---- actions -----------------------------------------------------------------------------

async function train(): Promise<void> {
  if (demo.state === 'training') return;
  const steps = moreSteps();
  ui.stopRequested = false;
  setState('training');
  renderButtons();
  try {
    const { text, source, data } = await trainingText();
    const key = currentKey();
    if (!session.model || (ui.modelKey !== key && ui.modelKey !== 'loaded')) {
      setStatus(`Building the vocabulary of ${source} and a new ${CELL_NAMES[ui.cell]}…`, 'training');
      await new Promise((r) => setTimeout(r, 0));
      await session.exclusive(() => session.create(trainConfigFor(ui.cell, SIZES[ui.size], data), text, source));
      ui.modelKey = key;
      demo.history = [];
      demo.loss = demo.ppl = demo.wordsPerSec = null;
      demo.checkpoint = null;
    } else if (!session.corpus || session.corpus.source !== source) {
      await session.exclusive(() => session.setText(text, source));
    }
    const target = session.step + steps;
    ui.target = target;
    renderAll();
    const corpus = session.corpus!;
    const what = `${CELL_NAMES[session.config!.model.cell]} on ${corpus.source} (${fmtInt(corpus.words)} words, vocabulary ${fmtInt(session.vocab!.size)})`;
    setStatus(`Training ${what}: compiling the kernels…`, 'training');
    await session.train({
      steps: target,
      evalEvery: 25,
      shouldStop: () => ui.stopRequested,
      onReport: (r) => {
        demo.loss = r.loss;
        demo.ppl = r.ppl;
        demo.wordsPerSec = r.wordsPerSec;
        demo.history.push({ step: r.step, loss: r.loss });
        renderStats();
        renderChartSoon();
        setStatus(`Training ${what}: step ${fmtInt(r.step)} of ${fmtInt(target)}.`, 'training');
      },
      onEval: () => renderChartSoon(),
    });
    setState('done');
    const last = session.records.filter((r) => r.split === 'valid').pop();
    setStatus(
      `${ui.stopRequested ? 'Stopped' : 'Done'} at step ${fmtInt(session.step)}` +
        (last ? `: validation perplexity ${last.ppl!.toFixed(1)} on ${fmtInt(last.tokens as number)} held-out tokens.` : '.') +
        ' Generate text below, save the model, or train on.',
      'done',
    );
  } catch (e) {
    if (e instanceof UnknownWordsError) askForModelText(e.trainedOn);
    fail(e, e instanceof UnknownWordsError ? 'Not trained' : 'Training failed');
  } finally {
    ui.target = null;
    renderAll();
  }
}

/** After a text was refused for its unknown words: the Text card opens on "Your text" and asks for the model's. */
function askForModelText(trainedOn: string): void {
  ui.source = 'own';
  els.textHint.textContent = `The model was trained on ${trainedOn}: drop or paste that text here, then press Train.`;
}

async function generateText(): Promise<void> {
  if (!session.model) return;
  const tokens = Math.max(1, Math.min(500, Math.floor(Number(els.genTokens.value) || 40)));
  const temperature = Math.max(0, Number(els.temperature.value) || 0);
  const prompt = els.prompt.value.trim() || 'The';
  els.generate.disabled = true;
  try {
    const t0 = performance.now();
    // The words appear as they are drawn.
    els.sample.classList.remove('empty');
    els.sample.replaceChildren();
    const p = document.createElement('span');
    p.className = 'prompt';
    const drawn = document.createTextNode('');
    els.sample.append(p, drawn);
    const g = await session.generate(prompt, tokens, temperature, genSeed++, (so) => {
      p.textContent = detokenize(so.prompt);
      drawn.textContent = so.words.length ? ' ' + detokenize(so.words) : '';
    });
    const ms = performance.now() - t0;
    const unknown = g.prompt.filter((w) => !session.vocab!.has(w));
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent =
      `${g.words.length} words in ${(ms / 1e3).toFixed(2)} s at temperature ${temperature}, model at step ${fmtInt(session.step)}` +
      (unknown.length ? ` · not in the vocabulary (read as <unk>): ${unknown.join(', ')}` : '');
    els.sample.append(meta);
    demo.generated = [...g.prompt, ...g.words].join(' ');
  } catch (e) {
    fail(e, 'Generation failed');
  } finally {
    renderButtons();
  }
}

async function save(): Promise<void> {
  if (!session.model) return;
  ui.busy = true;
  renderButtons();
  try {
    const bytes = await session.save();
    const cell = session.config!.model.cell;
    const name = `flstm-${cell}-step${session.step}.safetensors`;
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    demo.saved = { name, bytes: bytes.length };
    els.ckStatus.textContent = `Saved ${name} (${formatBytes(bytes.length)}).`;
  } catch (e) {
    fail(e, 'Saving failed');
  } finally {
    ui.busy = false;
    renderButtons();
  }
}

async function load(files: NamedFile[]): Promise<void> {
  if (files.length === 0) return;
  if (demo.state === 'training') {
    ui.stopRequested = true;
    while (demo.state === 'training') await new Promise((r) => setTimeout(r, 20));
  }
  ui.busy = true;
  renderButtons();
  els.ckStatus.textContent = `Reading ${files.map((f) => f.name).join(', ')}…`;
  try {
    const config = await session.load(files);
    ui.modelKey = 'loaded';
    ui.cell = config.train.model.cell;
    const { optimizerFrom, carriedState } = session.continuation!;
    demo.checkpoint = {
      source: session.loadedFrom!,
      step: config.step,
      cell: config.train.model.cell,
      vocab: config.vocabSize,
      optimizer: optimizerFrom,
      carriedState,
    };
    demo.history = [];
    demo.loss = demo.ppl = demo.wordsPerSec = null;
    demo.step = session.step;
    setState('idle');
    const msg = `Loaded ${session.loadedFrom}: ${describeConfig()}, trained ${fmtInt(config.step)} steps on ${config.train.data}. ${continuationText(config)}`;
    els.ckStatus.textContent = msg;
    setStatus(`${msg} Generate text, or press Train to continue training on the selected text.`, 'done');
  } catch (e) {
    fail(e, 'Loading failed');
    // The model in use (session.load replaces it only on success) stays usable: say so.
    els.ckStatus.textContent = session.model ? `Not loaded: ${(e as Error).message}. The model in use is unchanged.` : '';
  } finally {
    ui.busy = false;
    renderAll();
  }
}

/** The state an optimizer carries from step to step (plain SGD carries none). */
const OPTIMIZER_STATE: Record<Exclude<CheckpointConfig['train']['optimizer'], 'sgd'>, string> = {
  adagrad: "Adagrad's accumulators",
  adam: "Adam's moments",
};

/** What training continues with, and when the optimizer starts fresh, why and how to keep it. */
function continuationText(config: CheckpointConfig): string {
  const { optimizerFrom, carriedState } = session.continuation!;
  const opt = config.train.optimizer;
  if (optimizerFrom) {
    return `Training continues with its optimizer state (${optimizerFrom})${carriedState ? ' and its carried LSTM state' : ''}, from where flstm train stopped.`;
  }
  if (opt === 'sgd') return 'Training continues with SGD, which keeps no state between steps.';
  return (
    `The optimizer starts fresh (${OPTIMIZER_STATE[opt]} at their initial values): no optimizer-<G>.safetensors was given, so the loss may rise for the first steps. ` +
    'To keep the optimizer state of flstm train, give the whole checkpoint folder (its optimizer-<G>.safetensors with the model file); a model saved by this page holds weights only.'
  );
}

// ---- files and drops ---------------------------------------------------------------------

async function readFiles(list: Iterable<File>): Promise<NamedFile[]> {
  const out: NamedFile[] = [];
  for (const f of list) out.push({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
  return out;
}

/** The files of a drop, folders included (a dropped checkpoint folder). */
async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(dt.files);
  const files: File[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) files.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c);
      }
    }
  };
  for (const e of entries) await walk(e);
  return files;
}

function dropZone(el: HTMLElement, onFiles: (files: File[]) => void): void {
  el.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    el.classList.add('over');
  });
  el.addEventListener('dragleave', () => el.classList.remove('over'));
  el.addEventListener('drop', (ev) => {
    ev.preventDefault();
    el.classList.remove('over');
    if (ev.dataTransfer) void droppedFiles(ev.dataTransfer).then(onFiles);
  });
}

async function useTextFile(file: File): Promise<void> {
  ui.ownText = { name: file.name, text: await file.text() };
  els.paste.value = '';
  els.textHint.textContent = `${file.name}: ${fmtInt(wordCount(ui.ownText.text))} words.`;
  renderSetup();
}

// ---- start -------------------------------------------------------------------------------

function readParams(): { autorun: boolean; maxBindingBytes?: number } {
  const q = new URLSearchParams(location.search);
  // As FLSTM_MAX_BINDING_BYTES for the CLI: bindings planned this small, so tables are sharded.
  const cap = q.get('maxBindingBytes');
  const cell = q.get('cell');
  if (cell && cell in CELL_NAMES) ui.cell = cell as CellKind;
  const size = q.get('size');
  if (size && size in SIZES) ui.size = size;
  const steps = q.get('steps');
  if (steps && Number(steps) > 0) els.steps.value = String(Math.floor(Number(steps)));
  if (q.get('prompt')) els.prompt.value = q.get('prompt')!;
  return {
    autorun: q.get('autorun') === '1' || q.get('autorun') === 'true',
    maxBindingBytes: cap ? parseBindingCap(cap, '?maxBindingBytes') : undefined,
  };
}

/** One button per cell of the table (src/nn/cells.ts), named by its label. */
function cellButtons(): void {
  els.cell.replaceChildren(
    ...CELL_KINDS.map((cell) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'radio');
      b.dataset.value = cell;
      b.textContent = cellSpec(cell).label;
      return b;
    }),
  );
}

function wire(): void {
  cellButtons();
  onSeg(els.cell, (v) => {
    ui.cell = v as CellKind;
    if (ui.modelKey === 'loaded') ui.modelKey = null;
    renderSetup();
  });
  onSeg(els.source, (v) => {
    ui.source = v as 'brown' | 'own';
    if (ui.source === 'brown') els.textHint.textContent = brownHint;
    else els.textHint.textContent = ui.ownText ? `${ui.ownText.name}` : 'Your own text: a novel, your notes, code…';
    renderSetup();
  });
  els.size.addEventListener('change', () => {
    ui.size = els.size.value;
    if (ui.modelKey === 'loaded') ui.modelKey = null;
    renderSetup();
  });
  els.textFile.addEventListener('change', () => {
    const f = els.textFile.files?.[0];
    if (f) void useTextFile(f);
  });
  dropZone(els.textDrop, (files) => {
    if (files[0]) void useTextFile(files[0]);
  });
  els.paste.addEventListener('input', () => {
    const words = wordCount(els.paste.value);
    els.textHint.textContent = words ? `Pasted text: ${fmtInt(words)} words.` : 'Your own text: a novel, your notes, code…';
    renderStepsHint();
  });
  els.steps.addEventListener('input', renderStepsHint);
  els.train.addEventListener('click', () => void train());
  els.stop.addEventListener('click', () => {
    ui.stopRequested = true;
    setStatus('Stopping after this step…', 'training');
  });
  els.reset.addEventListener('click', () => {
    session.dispose();
    session.records = [];
    session.step = 0;
    ui.modelKey = null;
    demo.history = [];
    demo.loss = demo.ppl = demo.wordsPerSec = null;
    demo.checkpoint = null;
    setState('idle');
    els.sample.className = 'sample empty';
    els.sample.textContent = 'Train a few steps or load a checkpoint, then generate text from a prompt.';
    setStatus('A new model will start from random weights.');
    renderAll();
  });
  els.genForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void generateText();
  });
  els.save.addEventListener('click', () => void save());
  els.ckFile.addEventListener('change', () => {
    const list = els.ckFile.files ? Array.from(els.ckFile.files) : [];
    els.ckFile.value = '';
    void readFiles(list).then(load);
  });
  dropZone(els.ckDrop, (files) => void readFiles(files).then(load));
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(renderChartNow, 100);
  });
}

const brownHint = 'An excerpt of the Brown corpus: 30 texts of 15 genres of 1961 American English (press, fiction, science…).';

function noWebGPU(title: string, text: string): void {
  els.nogpu.hidden = false;
  els.nogpuTitle.textContent = title;
  els.nogpuText.textContent = text;
  els.adapter.dataset.state = 'error';
  els.adapterText.textContent = 'No WebGPU';
  setState(
    'error',
    `${title}: the demo trains with WebGPU and cannot run here. Use Chrome or Edge 113+ (on Linux start Chrome with --enable-unsafe-webgpu), over https:// or http://localhost.`,
  );
  setStatus(`${title}: the demo cannot train here (see above).`, 'error');
}

async function start(): Promise<void> {
  const { autorun, maxBindingBytes } = readParams();
  wire();
  els.textHint.textContent = brownHint;
  renderAll();
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGPU(
      'This browser has no WebGPU',
      window.isSecureContext
        ? 'navigator.gpu is missing, and the demo trains its model with WebGPU compute shaders. Here is how to get it:'
        : `This page is not a secure context (${location.origin}): WebGPU needs https:// or http://localhost.`,
    );
    return;
  }
  try {
    const info = await init({ maxBindingBytes });
    const parts = [info.vendor, info.architecture, info.description].filter((s) => s && s.trim() !== '');
    demo.adapter = `${parts.join(' · ') || 'WebGPU adapter'}${info.software ? ' (software)' : ''}`;
    els.adapter.dataset.state = 'ok';
    els.adapterText.textContent = demo.adapter;
    els.adapter.title = `WebGPU adapter: ${demo.adapter}; kernels: ${info.variant}; features: ${info.features.join(', ') || 'none'}`;
  } catch (e) {
    const msg = (e as Error).message;
    if (/no adapter|returned no adapter/i.test(msg)) {
      noWebGPU(
        'WebGPU found no adapter',
        'navigator.gpu is there but requestAdapter() gave nothing: the GPU may be blocklisted or its driver missing. Check chrome://gpu, and try:',
      );
    } else fail(e, 'Opening the GPU failed');
    renderButtons();
    return;
  }
  renderAll();
  // Fetch the excerpt early, so the first Train is quick.
  void trainingText().then(
    (t) => {
      if (ui.source === 'brown')
        els.textHint.textContent = `${brownHint} ${fmtInt(wordCount(t.text))} words, ${Math.round(t.text.length / 1024)} KB.`;
    },
    () => {},
  );
  if (autorun) await train();
}

void start();
