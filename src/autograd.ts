// The tape. Each op that has an input requiring grad attaches a GradNode to its output:
// the inputs and a closure that maps the output's gradient to the inputs' gradients.
// backward() walks the nodes in reverse topological order, summing gradients that meet.
// tensor.ts imports this module (Tensor.backward, Tensor.reshape's node) and this one the ops
// that sum gradients; no module of the cycle uses another's exports at load time.
import { Tensor, fmtShape } from './tensor.js';
import { add } from './ops/elementwise.js';
import { ones } from './ops/create.js';

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Gradients for each input (null where an input needs none). Runs with the tape off. */
  backward: (grad: Tensor) => (Tensor | null)[];
}

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
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: LSTM tapes can be long enough to overflow the JS stack.
  const stack: [Tensor, number][] = [[root, 0]];
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
function tensorOfShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar (shape [])' : `a tensor of shape ${fmtShape(shape)}`;
}

export interface BackwardOptions {
  retainGraph?: boolean;
  /**
   * Called for each leaf when its gradient is final (every op that used it has passed its part
   * back), while the rest of the backward is still to be encoded: a caller can start reading
   * it back, and the GPU runs the rest meanwhile.
   */
  onLeafGrad?: (leaf: Tensor) => void;
}

export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error(`flstm: backward() on ${tensorOfShape(root.shape)} that does not require grad: none of the tensors it was computed from had requiresGrad: true`);
  }
  if (!grad && root.size !== 1) {
    throw new Error(`flstm: backward() without a gradient needs a scalar (one element, such as a loss of shape []); got ${tensorOfShape(root.shape)}: pass the output's gradient, backward(grad)`);
  }
  if (grad && (grad.size !== root.size || grad.dtype !== 'f32')) {
    throw new Error(`flstm: backward() gradient has shape ${fmtShape(grad.shape)}, expected ${fmtShape(root.shape)}`);
  }
  noGrad(() => {
    const order = topoOrder(root);
    // Every gradient in this map is owned by backward (a fresh tensor or a view that holds a
    // reference to shared storage), so each can be disposed once it has been passed on.
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, grad ? grad.reshape(root.shape) : ones(root.shape));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        // A leaf: accumulate into .grad, as repeated backward calls do in PyTorch.
        if (t.grad) {
          const sum = add(t.grad, g);
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
          throw new Error(`flstm: internal error: ${node.op} backward gave a gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`);
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
          grads.set(x, add(prev, gx));
          prev.dispose();
          gx.dispose();
        } else grads.set(x, gx);
      }
      g.dispose();
      if (!opts.retainGraph) t.node = null;
    }
  });
}

