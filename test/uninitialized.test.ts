// A file that never calls fl.init(): every entry point that needs the device says so.
// (Vitest runs each file in its own process, so no other file's device is visible here.)
import { describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';

const NOT_INIT = /not initialized; call `await fl.init\(\)` first/;

describe('before fl.init()', () => {
  it('ops and info() say to call fl.init() first', () => {
    expect(() => fl.tensor([1, 2, 3], [3])).toThrow(NOT_INIT);
    expect(() => fl.zeros([2, 2])).toThrow(NOT_INIT);
    expect(() => fl.randn([2, 2], { seed: 1 })).toThrow(NOT_INIT);
    expect(() => fl.info()).toThrow(NOT_INIT);
    expect(() => fl.stats()).toThrow(NOT_INIT);
  });

  it('dispose() without a device is harmless', () => {
    expect(() => fl.dispose()).not.toThrow();
  });
});
