// bench/util.ts RiseWatch: what a bench reports as memory a stage added, from RSS samples.
import { describe, expect, it } from 'vitest';
import { RiseWatch } from '../bench/util.js';

function watch(samples: number[]): RiseWatch {
  const w = new RiseWatch();
  for (const s of samples) w.sample(s);
  return w;
}

describe('RiseWatch', () => {
  it('reports the most a figure rose above an earlier low, never a negative growth when it fell', () => {
    // RSS that falls while the collector hands pages back, then rises a little: a rise of 5.
    const falling = watch([100, 90, 95, 80, 85]);
    expect(falling.peak).toBe(100);
    expect(falling.rise).toBe(5);
    // Only falling: nothing rose.
    expect(watch([100, 90, 80]).rise).toBe(0);
    // A rise that came before a deeper low still counts.
    expect(watch([50, 70, 20, 30]).rise).toBe(20);
    expect(watch([10, 40, 30]).rise).toBe(30);
  });
});
