// How flstm prints a number of bytes, in every message: binary units (KiB, MiB, GiB, TiB,
// powers of 1024). An adapter's limits are powers of two, and FLSTM_MAX_BINDING_BYTES and the
// page's ?maxBindingBytes= are given in KiB, MiB and GiB, so one binding reads "128 MiB" in
// `flstm info`, the memory plan and its refusals alike, never "134.2 MB" in one place and
// "128 MiB" in another. Platform-free: the page prints sizes with it too.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];
/** Decimals by unit: a tenth of a KiB or MiB, a hundredth of a GiB or TiB. */
const DECIMALS = [1, 1, 2, 2];

/** "512 bytes", "64 KiB", "45.6 MiB", "1.23 GiB": whole numbers when the size is exact. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  let v = n;
  let u = -1;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(Number.isInteger(v) ? 0 : DECIMALS[u])} ${UNITS[u]}`;
}
