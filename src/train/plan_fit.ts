// Whether a run's memory plan (memory_plan.ts) fits this adapter and machine: what stops it,
// and what a GPU needs to run it. The run refuses before anything is allocated; `--dry-run`
// prints the plan first, then the same refusal.
import { totalmem } from 'node:os';
import { info } from '../engine.js';
import type { TrainConfig } from './config.js';
import { formatBytes } from './bytes.js';
import { formatMemoryPlan, memoryPlan, wholeTensors, type MemoryPlan } from './memory_plan.js';

/** What a GPU needs to run the plan: bindings of `bindingBytes` and `memoryBytes` of memory. */
export interface PlanNeeds {
  bindingBytes: number;
  memoryBytes: number;
}

/** The largest binding the run allocates whole (the LSTM's tensors; the softmax table with the full softmax) and the plan's total. */
export function planNeeds(cfg: TrainConfig, vocabSize: number, plan: MemoryPlan): PlanNeeds {
  const whole = wholeTensors(cfg, vocabSize).map((t) => t.bytes);
  const softmax = plan.tables.find((t) => t.name === 'softmax_w')!;
  if (cfg.sampled === 0) whole.push(softmax.bytes);
  return { bindingBytes: Math.max(...whole), memoryBytes: plan.total };
}

/** Each reason this adapter and machine cannot run the plan, in the words of the run's refusal (none: it fits). */
export function planProblems(cfg: TrainConfig, vocabSize: number, plan: MemoryPlan, hostBytes = totalmem()): string[] {
  const problems: string[] = [];
  const softmax = plan.tables.find((t) => t.name === 'softmax_w')!;
  if (cfg.sampled === 0 && softmax.shards > 1) {
    problems.push(
      `the full softmax trains a softmax table of one binding; this one ([${softmax.shape.join(', ')}], ${formatBytes(softmax.bytes)}) ` +
        `would be stored in ${softmax.shards} shards: train with the sampled softmax (--sampled N)`,
    );
  }
  const over = wholeTensors(cfg, vocabSize).filter((t) => t.bytes > plan.maxBindingBytes);
  if (over.length) {
    const what = over.map((t) => `${t.name} [${t.shape.join(', ')}] needs ${formatBytes(t.bytes)}`).join('; ');
    problems.push(
      `${what}: over this adapter's ${formatBytes(plan.maxBindingBytes)} binding (only the embedding and softmax tables are stored in shards): ` +
        'use a smaller --hidden, --proj, --emb, --batch or --bptt, or an adapter with larger bindings',
    );
  }
  if (plan.total > hostBytes)
    problems.push(`the model needs about ${formatBytes(plan.total)}, more than this machine's ${formatBytes(hostBytes)} of memory`);
  return problems;
}

/** The sentence that says what a GPU needs for the plan. */
export function needsText(n: PlanNeeds): string {
  return `a GPU with bindings of at least ${formatBytes(n.bindingBytes)} and ${formatBytes(n.memoryBytes)} of memory would run it`;
}

/** The run's memory plan, refused before anything is allocated when it does not fit this adapter or machine. */
export function checkedMemoryPlan(cfg: TrainConfig, vocabSize: number): MemoryPlan {
  const plan = memoryPlan(cfg, vocabSize, info().maxBindingBytes);
  const problems = planProblems(cfg, vocabSize, plan);
  if (problems.length) throw new PlanError(plan, problems, planNeeds(cfg, vocabSize, plan));
  return plan;
}

/** A plan this adapter or machine cannot run: each reason, the plan, and what would run it. */
export class PlanError extends Error {
  constructor(
    readonly plan: MemoryPlan,
    readonly problems: string[],
    readonly needs: PlanNeeds,
  ) {
    super(`flstm: ${problems.join('; and ')}; ${needsText(needs)}:\n${formatMemoryPlan(plan)}`);
  }
}
