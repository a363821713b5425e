// Shapes: element counts, printing, checks, and the suffix broadcast of the binary ops. Below
// the tensors, so that the tape (src/tape.ts) can print and sum gradients without them.
export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(shape: Shape, what = 'shape'): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`flstm: ${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Shape of a (op) b: equal shapes, or one operand's shape a suffix of the other's. */
export function broadcastShape(op: string, a: { shape: Shape; size: number }, b: { shape: Shape; size: number }): Shape {
  if (sameShape(a.shape, b.shape)) return a.shape;
  const isSuffix = (s: Shape, of: Shape) => s.length <= of.length && s.every((d, i) => d === of[of.length - s.length + i]);
  if (isSuffix(b.shape, a.shape) || b.size === 1) return a.shape;
  if (isSuffix(a.shape, b.shape) || a.size === 1) return b.shape;
  throw new Error(
    `flstm: ${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast ` +
      '(expected equal shapes, or one a trailing part of the other such as a row vector, or a scalar)',
  );
}
