// Elementwise ops: add, sub, mul (with suffix broadcast: a row vector or a scalar), scale,
// sigmoid, tanh, relu, exp. Forward and backward side by side.
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { broadcastShape } from '../shape.js';
import { assertDType, assertTensor, out } from './dispatch.js';
import { sumTo } from './reduce.js';
import { launchBinary, launchFill, launchUnary, launchUnaryBackward, type BinaryName, type UnaryName } from './elementwise_kernels.js';

function unaryRaw(op: UnaryName, x: Tensor, alpha = 1, beta = 0): Tensor {
  const y = out(x.shape, 'f32', op);
  launchUnary(op, x.size, alpha, beta, x.buffer, y.buffer);
  return y;
}

export function unaryBackwardRaw(op: UnaryName, dy: Tensor, saved: Tensor, alpha = 1): Tensor {
  const dx = out(dy.shape, 'f32', `${op}.backward`);
  launchUnaryBackward(op, dy.size, alpha, dy.buffer, saved.buffer, dx.buffer);
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
  launchFill(y.buffer, y.size, value);
  return y;
}

function binaryRaw(op: BinaryName, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const c = out(shape, 'f32', op);
  launchBinary(op, c.size, a.size, b.size, a.buffer, b.buffer, c.buffer);
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
