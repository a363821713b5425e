// How many workgroups a launch needs.

/** Workgroups for n invocations of `wg` each, folded into 2-D when over the per-dimension limit. */
export function grid1d(n: number, wg = 256, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
