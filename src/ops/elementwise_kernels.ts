// The elementwise kernels and their launches on buffers. They know no tensors, so that the
// tape (src/tape.ts), which sits below the tensors, sums gradients with the very kernels the
// elementwise ops (src/ops/elementwise.ts) run.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { composeKernel } from '../gpu/compose.js';
import { grid1d } from '../gpu/grid.js';
import mathSrc from '../../kernels/math.wgsl';
import unarySrc from '../../kernels/unary.wgsl';
import unaryBackwardSrc from '../../kernels/unary_backward.wgsl';
import binarySrc from '../../kernels/binary.wgsl';

const UNARY = composeKernel('unary', [kernelFile('math', mathSrc), kernelFile('unary', unarySrc)]);
const UNARY_BACKWARD = kernelFile('unary_backward', unaryBackwardSrc);
const BINARY = kernelFile('binary', binarySrc);

export const UnaryOp = { sigmoid: 0, tanh: 1, relu: 2, exp: 3, scale: 4, fill: 5 } as const;
export type UnaryName = keyof typeof UnaryOp;

/** y = op(alpha * x + beta) over n elements (scale: alpha * x + beta). */
export function launchUnary(op: UnaryName, n: number, alpha: number, beta: number, x: GPUBuffer, y: GPUBuffer): void {
  rt().run(UNARY, {
    overrides: { OP: UnaryOp[op] },
    params: { n, alpha, beta },
    buffers: [x, y],
    workgroups: grid1d(n),
  });
}

/** dx = dy * op'(saved) over n elements, from the op's output (or, for relu, its input). */
export function launchUnaryBackward(op: UnaryName, n: number, alpha: number, dy: GPUBuffer, saved: GPUBuffer, dx: GPUBuffer): void {
  rt().run(UNARY_BACKWARD, {
    overrides: { OP: UnaryOp[op] },
    params: { n, alpha, beta: 0 },
    buffers: [dy, saved, dx],
    workgroups: grid1d(n),
  });
}

/** Fills y with value: its first n elements, or for zero the whole buffer. */
export function launchFill(y: GPUBuffer, n: number, value: number): void {
  if (value === 0) {
    rt().recorder.clear(y);
    return;
  }
  rt().run(UNARY, {
    overrides: { OP: UnaryOp.fill },
    params: { n, alpha: 0, beta: value },
    buffers: [rt().dummy, y],
    workgroups: grid1d(n),
  });
}

export type BinaryName = 'add' | 'sub' | 'mul';
const BinaryOp = { add: 0, sub: 1, mul: 2 } as const;

/** c = a (op) b over n elements, a of na and b of nb elements repeated along c (suffix broadcast). */
export function launchBinary(op: BinaryName, n: number, na: number, nb: number, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer): void {
  rt().run(BINARY, {
    overrides: { OP: BinaryOp[op] },
    params: { n, na, nb },
    buffers: [a, b, c],
    workgroups: grid1d(n),
  });
}
