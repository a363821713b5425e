// The kernel self-check page (dist/web/selfcheck.html): runs src/web/selfcheck.ts in this
// browser and lists pass / fail per case. Published for automation:
// window.flstmSelfCheck = { done, results, adapter, error? }. ?filter=REGEX runs some cases.
import { init } from '../engine.js';
import { runSelfCheck, type CheckResult } from './selfcheck.js';

interface SelfCheckState {
  done: boolean;
  results: CheckResult[];
  adapter: string | null;
  error?: string;
}

declare global {
  interface Window {
    flstmSelfCheck: SelfCheckState;
  }
}

const state: SelfCheckState = { done: false, results: [], adapter: null };
window.flstmSelfCheck = state;

const rows = document.getElementById('rows')!;
const summary = document.getElementById('summary')!;
const adapterEl = document.getElementById('adapter')!;
const adapterText = document.getElementById('adapter-text')!;

function pill(cls: string, text: string): HTMLElement {
  const s = document.createElement('span');
  s.className = `pill ${cls}`;
  s.textContent = text;
  return s;
}

function renderSummary(total: number, running: boolean): void {
  const n = (s: string) => state.results.filter((r) => r.status === s).length;
  const parts = [pill('pass', `${n('pass')} passed`), pill(n('fail') ? 'fail' : 'skip', `${n('fail')} failed`)];
  if (n('skip')) parts.push(pill('skip', `${n('skip')} not applicable`));
  if (running) parts.push(pill('run', `running ${state.results.length + 1} of ${total}…`));
  const ms = state.results.reduce((a, r) => a + r.ms, 0);
  const t = document.createElement('span');
  t.className = 'hint';
  t.style.margin = '0';
  t.textContent = `${(ms / 1e3).toFixed(1)} s`;
  summary.replaceChildren(...parts, t);
}

function addRow(r: CheckResult): void {
  const tr = document.createElement('tr');
  tr.className = r.status;
  const td = (text: string, cls?: string) => {
    const c = document.createElement('td');
    if (cls) c.className = cls;
    c.textContent = text;
    return c;
  };
  const result = document.createElement('td');
  result.append(pill(r.status, r.status === 'skip' ? 'n/a' : r.status));
  tr.append(td(r.group), td(r.name), result, td(String(r.ms), 'ms'), td(r.message ?? '', 'msg'));
  rows.append(tr);
}

async function main(): Promise<void> {
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is undefined): see the demo page for how to enable it');
  const info = await init();
  state.adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') + (info.software ? ' (software)' : '');
  adapterEl.dataset.state = 'ok';
  adapterText.textContent = state.adapter;
  const query = new URLSearchParams(location.search);
  const q = query.get('filter');
  const filter = q ? new RegExp(q, 'i') : undefined;
  // ?seed=N replays a run (a failed case's message names its run's seed).
  const seed = query.get('seed');
  await runSelfCheck({
    filter,
    seed: seed === null ? undefined : Number(seed) >>> 0,
    onResult: (r, i, total) => {
      state.results.push(r);
      addRow(r);
      renderSummary(total, i + 1 < total);
      if (r.status === 'fail') console.warn(`flstm self-check: ${r.group} / ${r.name}: ${r.message}`);
    },
  });
  renderSummary(state.results.length, false);
}

main().then(
  () => {
    state.done = true;
  },
  (e: Error) => {
    state.error = e.message;
    state.done = true;
    adapterEl.dataset.state = 'error';
    summary.replaceChildren(pill('fail', 'could not run'), document.createTextNode(` ${e.message}`));
  },
);
