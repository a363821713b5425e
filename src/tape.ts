// The tape. Each op that has an input requiring grad attaches a GradNode to its output:
// the inputs and a closure that maps the output's gradient to the inputs' gradients.
// backwardPass() walks the nodes in reverse topological order, summing gradients that meet.
// This module sits below the tensors (src/tensor.ts records its reshapes here and runs its
// backward() here), so it knows a tensor only by what it reads and writes on one
// (Differentiable), is handed the way to make one, and sums with the elementwise kernels.
import { broadcastShape, fmtShape, type Shape } from './shape.js';
import { launchBinary, launchFill } from './ops/elementwise_kernels.js';

export interface GradNode<T> {
  op: string;
  inputs: T[];
  /** Gradients for each input (null where an input needs none). Runs with the tape off. */
  backward: (grad: T) => (T | null)[];
}

/** What the tape reads and writes on a tensor. */
export interface Differentiable<T> {
  readonly shape: Shape;
  readonly size: number;
  readonly dtype: string;
  readonly buffer: GPUBuffer;
  requiresGrad: boolean;
  grad: T | null;
  /** The op that produced this tensor, while the tape holds it. */
  node: GradNode<T> | null;
  reshape(shape: Shape): T;
  keep(): T;
  dispose(): void;
}

/** Makes an f32 tensor of the shape with uninitialized contents; `origin` names what made it. */
export type MakeTensor<T> = (shape: Shape, origin: string) => T;

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with the tape off: nothing it computes is recorded for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches a node to `out` when recording and some input needs a gradient. */
export function record<T extends Differentiable<T>>(out: T, op: string, inputs: T[], backward: GradNode<T>['backward']): T {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

function topoOrder<T extends Differentiable<T>>(root: T): T[] {
  const order: T[] = [];
  const seen = new Set<T>();
  // Iterative DFS: LSTM tapes can be long enough to overflow the JS stack.
  const stack: [T, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (c.requiresGrad && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** A tensor by its shape, in words: "a scalar (shape [])", "a tensor of shape [2, 3]". */
function tensorOfShape(shape: Shape): string {
  return shape.length === 0 ? 'a scalar (shape [])' : `a tensor of shape ${fmtShape(shape)}`;
}

/** A tensor of ones: the gradient of a scalar root with respect to itself. */
function onesOf<T extends Differentiable<T>>(shape: Shape, make: MakeTensor<T>): T {
  const t = make(shape, 'fill');
  launchFill(t.buffer, t.size, 1);
  return t;
}

/** a + b with the checks, the broadcast and the kernel of the add op, unrecorded. */
function sumOf<T extends Differentiable<T>>(a: T, b: T, make: MakeTensor<T>): T {
  a.buffer; // throws a clear message when disposed
  b.buffer;
  for (const [t, what] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (t.dtype !== 'f32') throw new Error(`flstm: add: ${what} must be f32, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  const c = make(broadcastShape('add', a, b), 'add');
  launchBinary('add', c.size, a.size, b.size, a.buffer, b.buffer, c.buffer);
  return c;
}

export interface BackwardOptions<T> {
  retainGraph?: boolean;
  /**
   * Called for each leaf when its gradient is final (every op that used it has passed its part
   * back), while the rest of the backward is still to be encoded: a caller can start reading
   * it back, and the GPU runs the rest meanwhile.
   */
  onLeafGrad?: (leaf: T) => void;
}

function checkRoot<T extends Differentiable<T>>(root: T, grad: T | undefined): void {
  if (!root.requiresGrad) {
    throw new Error(
      `flstm: backward() on ${tensorOfShape(root.shape)} that does not require grad: none of the tensors it was computed from had requiresGrad: true`,
    );
  }
  if (!grad && root.size !== 1) {
    throw new Error(
      `flstm: backward() without a gradient needs a scalar (one element, such as a loss of shape []); got ${tensorOfShape(root.shape)}: pass the output's gradient, backward(grad)`,
    );
  }
  if (grad && (grad.size !== root.size || grad.dtype !== 'f32')) {
    throw new Error(`flstm: backward() gradient has shape ${fmtShape(grad.shape)}, expected ${fmtShape(root.shape)}`);
  }
}

/** Backpropagates from root, making the gradients' tensors with `make`. */
export function backwardPass<T extends Differentiable<T>>(
  root: T,
  grad: T | undefined,
  opts: BackwardOptions<T>,
  make: MakeTensor<T>,
): void {
  checkRoot(root, grad);
  noGrad(() => {
    const order = topoOrder(root);
    // Every gradient in this map is owned by backward (a fresh tensor or a view that holds a
    // reference to shared storage), so each can be disposed once it has been passed on.
    const grads = new Map<T, T>();
    grads.set(root, grad ? grad.reshape(root.shape) : onesOf(root.shape, make));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        // A leaf: accumulate into .grad, as repeated backward calls do in PyTorch.
        if (t.grad) {
          const sum = sumOf(t.grad, g, make);
          t.grad.dispose();
          g.dispose();
          t.grad = sum.keep();
        } else t.grad = g.keep();
        // Reverse topological order: every op that used this leaf has run, so its gradient is final.
        opts.onLeafGrad?.(t);
        continue;
      }
      const node = t.node;
      const inGrads = node.backward(g);
      for (let j = 0; j < node.inputs.length; j++) {
        const x = node.inputs[j];
        let gx = inGrads[j];
        if (!gx) continue;
        if (gx.size !== x.size) {
          throw new Error(
            `flstm: internal error: ${node.op} backward gave a gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`,
          );
        }
        if (!x.requiresGrad) {
          if (gx !== g) gx.dispose();
          continue;
        }
        // A view when the op passed the gradient through (or reshaped it), so ownership is uniform.
        if (gx === g || gx.shape.join() !== x.shape.join()) {
          const v = gx.reshape(x.shape);
          if (gx !== g) gx.dispose();
          gx = v;
        }
        const prev = grads.get(x);
        if (prev) {
          grads.set(x, sumOf(prev, gx, make));
          prev.dispose();
          gx.dispose();
        } else grads.set(x, gx);
      }
      g.dispose();
      if (!opts.retainGraph) t.node = null;
    }
  });
}
