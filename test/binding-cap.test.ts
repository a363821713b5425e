// The binding cap: fl.init({ maxBindingBytes }) or FLSTM_MAX_BINDING_BYTES makes flstm plan
// as on an adapter whose storage bindings hold that many bytes.
import { afterEach, describe, expect, it } from 'vitest';
import * as fl from '../src/index.js';
import { BINDING_CAP_ENV, parseBindingCap, requestedBindingCap } from '../src/gpu/binding_cap.js';
import { useDevice } from './helpers.js';
import { root, runCli, useBuiltCli } from './cli-helpers.js';
import { spawnSync } from 'node:child_process';

const CAP = 64 * 1024;
useDevice({ maxBindingBytes: CAP });

describe('the binding cap', () => {
  afterEach(() => {
    delete process.env[BINDING_CAP_ENV];
  });

  it('reads bytes with an optional binary unit, and refuses anything else naming where it came from', () => {
    expect(parseBindingCap('65536', 'X')).toBe(65536);
    expect(parseBindingCap(' 64KiB ', 'X')).toBe(65536);
    expect(parseBindingCap('128MiB', 'X')).toBe(128 * 1024 ** 2);
    expect(parseBindingCap('2GiB', 'X')).toBe(2 * 1024 ** 3);
    expect(parseBindingCap(4096, 'X')).toBe(4096);
    for (const bad of ['', 'abc', '64kb', '1.5MiB', '1000', '4097', '-4096']) {
      expect(() => parseBindingCap(bad, 'FLSTM_MAX_BINDING_BYTES'), bad).toThrow(
        `flstm: FLSTM_MAX_BINDING_BYTES must be a whole number of bytes (or KiB, MiB, GiB), a multiple of 4 and at least 1024, got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('comes from the option, else from the environment', () => {
    expect(requestedBindingCap(undefined)).toBeUndefined();
    process.env[BINDING_CAP_ENV] = '1MiB';
    expect(requestedBindingCap(undefined)).toBe(1024 ** 2);
    expect(requestedBindingCap(8192)).toBe(8192);
    process.env[BINDING_CAP_ENV] = 'lots';
    expect(() => requestedBindingCap(undefined)).toThrow(/FLSTM_MAX_BINDING_BYTES must be .* got "lots"/);
  });

  it('is the planning limit: info says so, a tensor of the cap fits and one of four bytes more is refused', async () => {
    const info = fl.info();
    expect(info.maxBindingBytes).toBe(CAP);
    expect(info.bindingCapped).toBe(true);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(CAP); // the adapter's own limit is kept
    const fits = fl.zeros([CAP / 4]);
    expect((await fits.data()).length).toBe(CAP / 4);
    fits.dispose();
    expect(() => fl.zeros([CAP / 4 + 1])).toThrow(
      `needs ${CAP + 4} bytes, over this adapter's binding cap (FLSTM_MAX_BINDING_BYTES or fl.init({ maxBindingBytes })) (${CAP} bytes)`,
    );
  });
});

describe('flstm info', () => {
  useBuiltCli();
  it("prints the binding size flstm plans with, and says when it is a cap below the adapter's", () => {
    const plain = runCli(['info']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^binding size +\d+ \([\d.]+ [KMG]iB\): larger tables are stored in row shards$/m);
    const capped = spawnSync(process.execPath, ['dist/cli.js', 'info'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, [BINDING_CAP_ENV]: '1MiB' },
    });
    expect(capped.status, capped.stderr).toBe(0);
    expect(capped.stdout).toMatch(/^binding size +1048576 \(1 MiB\), a cap below the adapter's \(FLSTM_MAX_BINDING_BYTES/m);
  });
});
