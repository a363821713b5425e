// A table parameter (an embedding or softmax matrix [V, D], or a bias [V]) stored as row
// shards, each small enough for one storage binding (the adapter's limit, or the cap of
// fl.init({ maxBindingBytes })), as the paper's code shards its embedding and softmax. A
// table that fits is one shard, the parameter itself. Rows are always reached by id lists
// (distinct): gathered from the shards that hold them into one block in their order, and a
// block's gradient split back into one sparse update per shard, so every shard count computes
// the same values. Checkpoints hold the table as one logical tensor (mergeShards / splitShards).
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import { rt } from '../gpu/runtime.js';
import { noGrad } from '../autograd.js';
import { embedding } from '../ops/embedding.js';
import { tensor, writeRange, zeros } from '../ops/create.js';
import { concatRows } from '../ops/rows.js';
import { rngFor } from '../random.js';

export interface TableShard {
  /** The parameter holding rows start .. start + rows - 1. */
  param: Tensor;
  start: number;
  rows: number;
}

/** A shard's parameter name: the table's own when it is one shard. */
export function shardName(table: string, shard: number, shards: number): string {
  return shards === 1 ? table : `${table}_shard${shard}`;
}

/** Rows per shard of a table whose rows hold `rowValues` f32 values, within `maxBytes` per binding. */
export function rowsPerShard(name: string, rows: number, rowValues: number, maxBytes: number): number {
  const rowBytes = rowValues * 4;
  if (rowBytes > maxBytes)
    throw new Error(`flstm: ${name}: one row is ${rowBytes} bytes, over the ${maxBytes}-byte binding: no shard can hold it`);
  return Math.min(rows, Math.floor(maxBytes / rowBytes));
}

export class Table {
  readonly shards: TableShard[];

  /**
   * `values(start, rows)` gives the f32 values of rows start .. start + rows - 1, row-major.
   * `maxRowsPerShard` aligns the shards with another table's (the softmax bias with its weights).
   * `values` null: zeros, made on the GPU (nothing on the host).
   */
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    values: ((start: number, rows: number) => Float32Array) | null,
    maxRowsPerShard = Infinity,
  ) {
    const V = shape[0];
    const rowValues = shapeSize(shape.slice(1));
    const per = Math.min(maxRowsPerShard, rowsPerShard(name, V, rowValues, rt().info.maxBindingBytes));
    this.shards = [];
    for (let start = 0; start < V; start += per) {
      const rows = Math.min(per, V - start);
      const param = values ? tensor(values(start, rows), [rows, ...shape.slice(1)]) : zeros([rows, ...shape.slice(1)]);
      this.shards.push({ param, start, rows });
    }
  }

  /** Uniform values in [-scale, scale), the stream of nn.init.uniform(shape, scale, seed) whatever the shard count. */
  static uniform(name: string, shape: readonly number[], scale: number, seed: number): Table {
    const rng = rngFor(seed);
    const rowValues = shapeSize(shape.slice(1));
    // Shards are made in order, so one generator continues from shard to shard.
    return new Table(name, shape, (_start, rows) => {
      // A loop, not Float32Array.from's callback: a large vocabulary's tables hold hundreds of millions of values.
      const values = new Float32Array(rows * rowValues);
      for (let i = 0; i < values.length; i++) values[i] = scale * (2 * rng.uniform() - 1);
      return values;
    });
  }

  /** Zeros, made on the GPU; with `like`, in the row shards of that table (which must hold as many rows). */
  static zeros(name: string, shape: readonly number[], like?: Table): Table {
    return new Table(name, shape, null, like?.shards[0].rows);
  }

  get rows(): number {
    return this.shape[0];
  }

  /** The parameters by name, as the module registers them. */
  namedShards(): [string, Tensor][] {
    return this.shards.map((s, i) => [shardName(this.name, i, this.shards.length), s.param]);
  }

  /** The values as one logical tensor, read shard by shard into it (the host holds each value once). */
  async read(): Promise<{ shape: number[]; data: Float32Array }> {
    const rowValues = shapeSize(this.shape.slice(1));
    const data = new Float32Array(this.rows * rowValues);
    for (const s of this.shards) data.set((await s.param.data()) as Float32Array, s.start * rowValues);
    return { shape: [...this.shape], data };
  }

  /** Values offset .. offset + count - 1 of the logical tensor (row-major), read from the shards that hold them. */
  readRange(offset: number, count: number): Promise<Float32Array | Int32Array> {
    return readAcross(
      this.shards.map((s) => s.param),
      offset,
      count,
    );
  }

  /** The one parameter of an unsharded table (a sharded one has several: use `shards`). */
  get single(): Tensor {
    if (this.shards.length !== 1)
      throw new Error(`flstm: ${this.name} is stored in ${this.shards.length} shards; reach it through its shards`);
    return this.shards[0].param;
  }

  /** The rows of any `ids` (a batch's inputs), [ids.length, ...], recorded by no tape. */
  lookup(ids: Int32Array): Tensor {
    if (this.shards.length === 1) return noGrad(() => embedding(asRows(this.single), ids));
    const uniq = uniqueSorted(ids);
    return noGrad(() => embedding(this.gatherRows(uniq), positionsIn(ids, uniq)));
  }

  /** For each shard that holds some of the distinct `ids`: their positions in `ids` and their rows in the shard. */
  private groups(ids: Int32Array): { shard: TableShard; positions: Int32Array; local: Int32Array }[] {
    const per = this.shards[0].rows; // every shard but the last holds this many rows
    const positions: number[][] = this.shards.map(() => []);
    ids.forEach((id, i) => {
      if (!(Number.isInteger(id) && id >= 0 && id < this.rows))
        throw new Error(`flstm: ${this.name}: id ${id} at position ${i} is out of range [0, ${this.rows})`);
      positions[Math.floor(id / per)].push(i);
    });
    return this.shards.flatMap((shard, s) =>
      positions[s].length === 0
        ? []
        : [
            {
              shard,
              positions: Int32Array.from(positions[s]),
              local: Int32Array.from(positions[s], (i) => ids[i] - shard.start),
            },
          ],
    );
  }

  /** The rows `ids` (distinct) as one block [ids.length, ...] in their order, recorded by no tape. */
  gatherRows(ids: Int32Array): Tensor {
    return noGrad(() => {
      if (this.shards.length === 1) return reshapeRows(embedding(asRows(this.single), ids), ids.length, this.shape);
      const groups = this.groups(ids);
      const parts = groups.map((g) => embedding(asRows(g.shard.param), g.local));
      if (parts.length === 1) return reshapeRows(parts[0], ids.length, this.shape); // all in one shard, in order
      const byShard = parts.length === 1 ? parts[0] : concatRows(parts);
      // Row k of byShard is ids[order[k]]: put each row back at its position.
      const order = Int32Array.from(groups.flatMap((g) => Array.from(g.positions)));
      const back = new Int32Array(ids.length);
      order.forEach((pos, k) => {
        back[pos] = k;
      });
      const block = embedding(byShard, back);
      return reshapeRows(block, ids.length, this.shape);
    });
  }

  /** The gradient `rows` of the block gathered for `ids`, as one sparse update per shard. */
  sparseUpdates(ids: Int32Array, rows: Tensor): { param: Tensor; ids: Int32Array; rows: Tensor }[] {
    if (this.shards.length === 1) return [{ param: this.single, ids, rows }];
    const groups = this.groups(ids);
    if (groups.length === 1) return [{ param: groups[0].shard.param, ids: groups[0].local, rows }];
    const block = asRows(rows);
    return groups.map((g) => ({
      param: g.shard.param,
      ids: g.local,
      rows: reshapeRows(
        noGrad(() => embedding(block, g.positions)),
        g.local.length,
        this.shape,
      ),
    }));
  }

  dispose(): void {
    for (const s of this.shards) s.param.dispose();
  }
}

/** Distinct ids in ascending order. */
export function uniqueSorted(ids: Int32Array): Int32Array {
  return Int32Array.from(new Set(ids)).sort();
}

/** The position of each of `ids` in the sorted distinct list `uniq`. */
export function positionsIn(ids: Int32Array, uniq: Int32Array): Int32Array {
  const pos = new Map<number, number>();
  uniq.forEach((v, i) => pos.set(v, i));
  return ids.map((v) => pos.get(v)!);
}

/** A shard as a 2-D table of rows (a bias [rows] as [rows, 1]). */
function asRows(t: Tensor): Tensor {
  return t.rank === 2 ? t : t.reshape([t.shape[0], shapeSize(t.shape.slice(1))]);
}

/** A gathered block in the table's row shape ([n] for a bias). */
function reshapeRows(block: Tensor, n: number, shape: readonly number[]): Tensor {
  const want = [n, ...shape.slice(1)];
  return block.rank === want.length ? block : block.reshape(want);
}

/** Entries of a state dict keyed `<name>` or `<name>.<slot>`, for one table's shards. */
function shardKeys(table: Table, key: string): string[] | null {
  const names = table.namedShards().map(([n]) => n);
  const slot = key === table.name ? '' : key.startsWith(`${table.name}.`) ? key.slice(table.name.length) : null;
  return slot === null ? null : names.map((n) => n + slot);
}

/**
 * The state dict `dict` (a model's, or an optimizer's with `<param>.<slot>` keys) with each
 * sharded table's shard entries joined into one logical entry per table (and slot).
 */
export function mergeShards<E extends { shape: number[]; data: Float32Array | Int32Array }>(
  dict: Record<string, E>,
  tables: readonly Table[],
): Record<string, E> {
  return mergeShardsWith(dict, tables, (parts, shape) => {
    const data = new (parts[0].data.constructor as Float32ArrayConstructor)(parts.reduce((a, p) => a + p.data.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p.data, at);
      at += p.data.length;
    }
    return { ...parts[0], shape, data };
  });
}

/**
 * mergeShards with each logical entry made by `join` from its shard entries in row order (a
 * copy, or a reader of the shards that a checkpoint streams): the same keys in the same order.
 * Unsharded tables keep their place; each sharded table's entries go last, as the copy did.
 */
export function mergeShardsWith<E extends { shape: readonly number[] }, O>(
  dict: Record<string, E>,
  tables: readonly Table[],
  join: (parts: E[], shape: number[]) => O,
): Record<string, E | O> {
  const out: Record<string, E | O> = { ...dict };
  for (const table of tables.filter((t) => t.shards.length > 1)) {
    const first = `${table.name}_shard0`;
    for (const key of Object.keys(dict).filter((k) => k === first || k.startsWith(`${first}.`))) {
      const logical = table.name + key.slice(first.length);
      const parts = shardKeys(table, logical)!.map((k) => dict[k]);
      if (parts.some((p) => !p)) throw new Error(`flstm: ${table.name}: a shard of '${logical}' is missing from the state`);
      shardKeys(table, logical)!.forEach((k) => delete out[k]);
      out[logical] = join(parts, [table.rows, ...parts[0].shape.slice(1)]);
    }
  }
  return out;
}

/**
 * Values offset .. offset + count - 1 of `parts` laid end to end (a table's shards, or their
 * optimizer state), each read from the parts that hold some: one piece of the logical tensor
 * on the host, never the whole.
 */
export async function readAcross(parts: readonly Tensor[], offset: number, count: number): Promise<Float32Array | Int32Array> {
  const total = parts.reduce((a, p) => a + p.size, 0);
  if (!(offset >= 0 && count >= 0 && offset + count <= total))
    throw new Error(`flstm: values [${offset}, ${offset + count}) are not within the ${total} of the shards`);
  const pieces: (Float32Array | Int32Array)[] = [];
  let start = 0;
  for (const p of parts) {
    const from = Math.max(offset, start);
    const to = Math.min(offset + count, start + p.size);
    if (from < to) pieces.push(await p.dataRange(from - start, to - from));
    start += p.size;
  }
  if (pieces.length === 1) return pieces[0];
  const out = parts[0]?.dtype === 'i32' ? new Int32Array(count) : new Float32Array(count);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Writes `data` into values offset .. offset + data.length - 1 of `parts` laid end to end
 * (a table's shards): readAcross's inverse, each part given the values it holds.
 */
export function writeAcross(parts: readonly Tensor[], offset: number, data: Float32Array): void {
  const total = parts.reduce((a, p) => a + p.size, 0);
  if (!(offset >= 0 && offset + data.length <= total))
    throw new Error(`flstm: values [${offset}, ${offset + data.length}) are not within the ${total} of the shards`);
  let start = 0;
  for (const p of parts) {
    const from = Math.max(offset, start);
    const to = Math.min(offset + data.length, start + p.size);
    if (from < to) writeRange(p, from - start, data.subarray(from - offset, to - offset));
    start += p.size;
  }
}

/** The inverse of mergeShards: each logical table entry cut into this model's shards. */
export function splitShards<E extends { shape: readonly number[]; data: ArrayLike<number> }>(
  dict: Record<string, E>,
  tables: readonly Table[],
): Record<string, E> {
  const out: Record<string, E> = { ...dict };
  for (const table of tables.filter((t) => t.shards.length > 1)) {
    for (const key of Object.keys(dict)) {
      const names = shardKeys(table, key);
      if (!names) continue;
      const e = dict[key];
      if (!e || !Array.isArray(e.shape) || e.shape[0] !== table.rows) {
        throw new Error(
          `flstm: ${table.name}: '${key}' has shape ${e && Array.isArray(e.shape) ? fmtShape(e.shape) : JSON.stringify(e)}, expected ${table.rows} rows`,
        );
      }
      const rowValues = shapeSize(e.shape.slice(1));
      delete out[key];
      const part = (from: number, to: number) =>
        ArrayBuffer.isView(e.data)
          ? (e.data as unknown as Float32Array).subarray(from, to)
          : Float32Array.from(Array.prototype.slice.call(e.data, from, to) as number[]);
      table.shards.forEach((s, i) => {
        out[names[i]] = {
          ...e,
          shape: [s.rows, ...e.shape.slice(1)],
          data: part(s.start * rowValues, (s.start + s.rows) * rowValues),
        } as unknown as E;
      });
    }
  }
  return out;
}
