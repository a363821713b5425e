// Elementwise ops: add, sub, mul (with suffix broadcast: a row vector or a scalar), scale,
// sigmoid, tanh, relu, exp. Forward and backward side by side.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { composeKernel } from '../gpu/compose.js';
import { record } from '../autograd.js';
import { Tensor, fmtShape } from '../tensor.js';
import { assertDType, assertTensor, grid1d, out, sameShape } from './dispatch.js';
import { sumTo } from './reduce.js';
import mathSrc from '../../kernels/math.wgsl';
import unarySrc from '../../kernels/unary.wgsl';
import unaryBackwardSrc from '../../kernels/unary_backward.wgsl';
import binarySrc from '../../kernels/binary.wgsl';

const UNARY = composeKernel('unary', [kernelFile('math', mathSrc), kernelFile('unary', unarySrc)]);
const UNARY_BACKWARD = kernelFile('unary_backward', unaryBackwardSrc);
const BINARY = kernelFile('binary', binarySrc);

export const UnaryOp = { sigmoid: 0, tanh: 1, relu: 2, exp: 3, scale: 4, fill: 5 } as const;
type UnaryName = keyof typeof UnaryOp;

function unaryRaw(op: UnaryName, x: Tensor, alpha = 1, beta = 0): Tensor {
  const y = out(x.shape, 'f32', op);
  rt().run(UNARY, {
    overrides: { OP: UnaryOp[op] },
    params: { n: x.size, alpha, beta },
    buffers: [x.buffer, y.buffer],
    workgroups: grid1d(x.size),
  });
  return y;
}

export function unaryBackwardRaw(op: UnaryName, dy: Tensor, saved: Tensor, alpha = 1): Tensor {
  const dx = out(dy.shape, 'f32', `${op}.backward`);
  rt().run(UNARY_BACKWARD, {
    overrides: { OP: UnaryOp[op] },
    params: { n: dy.size, alpha, beta: 0 },
    buffers: [dy.buffer, saved.buffer, dx.buffer],
    workgroups: grid1d(dy.size),
  });
  return dx;
}

function unary(op: 'sigmoid' | 'tanh' | 'relu' | 'exp', x: Tensor): Tensor {
  assertTensor(x, `${op}(x)`);
  assertDType(x, 'f32', op, 'x');
  const y = unaryRaw(op, x);
  // sigmoid, tanh and exp differentiate from their output; relu from its input.
  return record(y, op, [x], (g) => [unaryBackwardRaw(op, g, op === 'relu' ? x : y)]);
}

export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);

/** y = s * x (+ shift). */
export function scale(x: Tensor, s: number, shift = 0): Tensor {
  assertTensor(x, 'scale(x)');
  assertDType(x, 'f32', 'scale', 'x');
  if (!Number.isFinite(s) || !Number.isFinite(shift)) throw new Error(`flstm: scale: factor must be finite, got ${s}`);
  const y = unaryRaw('scale', x, s, shift);
  return record(y, 'scale', [x], (g) => [unaryRaw('scale', g, s, 0)]);
}

/** A tensor of the given shape filled with `value` (no autograd). */
export function fill(shape: readonly number[], value: number): Tensor {
  const y = out(shape, 'f32', 'fill');
  if (value === 0) {
    rt().recorder.clear(y.buffer);
    return y;
  }
  rt().run(UNARY, {
    overrides: { OP: UnaryOp.fill },
    params: { n: y.size, alpha: 0, beta: value },
    buffers: [rt().dummy, y.buffer],
    workgroups: grid1d(y.size),
  });
  return y;
}

type BinaryName = 'add' | 'sub' | 'mul';
const BinaryOp = { add: 0, sub: 1, mul: 2 } as const;

/** Shape of a (op) b: equal shapes, or one operand's shape a suffix of the other's. */
export function broadcastShape(op: string, a: Tensor, b: Tensor): readonly number[] {
  if (sameShape(a.shape, b.shape)) return a.shape;
  const isSuffix = (s: readonly number[], of: readonly number[]) =>
    s.length <= of.length && s.every((d, i) => d === of[of.length - s.length + i]);
  if (isSuffix(b.shape, a.shape) || b.size === 1) return a.shape;
  if (isSuffix(a.shape, b.shape) || a.size === 1) return b.shape;
  throw new Error(
    `flstm: ${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast ` +
      '(expected equal shapes, or one a trailing part of the other such as a row vector, or a scalar)',
  );
}

function binaryRaw(op: BinaryName, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const c = out(shape, 'f32', op);
  rt().run(BINARY, {
    overrides: { OP: BinaryOp[op] },
    params: { n: c.size, na: a.size, nb: b.size },
    buffers: [a.buffer, b.buffer, c.buffer],
    workgroups: grid1d(c.size),
  });
  return c;
}

function binary(op: BinaryName, a: Tensor, b: Tensor): Tensor {
  assertTensor(a, `${op}(a, b): a`);
  assertTensor(b, `${op}(a, b): b`);
  assertDType(a, 'f32', op, 'a');
  assertDType(b, 'f32', op, 'b');
  const shape = broadcastShape(op, a, b);
  const c = binaryRaw(op, a, b, shape);
  return record(c, op, [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) ga = op === 'mul' ? binaryRaw('mul', g, b, shape) : g;
    if (b.requiresGrad) gb = op === 'mul' ? binaryRaw('mul', g, a, shape) : op === 'sub' ? unaryRaw('scale', g, -1) : g;
    return [ga && reduceTo(ga, a, g), gb && reduceTo(gb, b, g)];
  });
}

/** Sums a broadcast gradient back to the operand's shape. */
function reduceTo(grad: Tensor, x: Tensor, g: Tensor): Tensor {
  if (grad.size === x.size) return grad;
  const r = sumTo(grad, x.size);
  if (grad !== g) grad.dispose();
  return r;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
