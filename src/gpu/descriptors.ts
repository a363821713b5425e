// libc's dup, dup2 and close, called through koffi (an FFI with prebuilt binaries), for pointing
// descriptor 2 somewhere else for a while and back. A duplicate shares the original's open file
// description, so when stdout and stderr are one file (`> log 2>&1`) they keep sharing one
// offset and neither writes over the other; this works for a terminal, a file, a pipe and a
// socket alike. Node on Linux and macOS only; koffi is loaded on first use and never in a
// browser (a variable specifier keeps bundlers from pulling its native addon in).
import { isBrowser } from './platform.js';
import { loadKoffi, type Koffi } from './koffi.js';

/** The three calls, as libc has them: each returns -1 on failure. */
export interface DescriptorCalls {
  dup(fd: number): number;
  dup2(from: number, to: number): number;
  close(fd: number): number;
}

/** Where libc is, by platform; null is the process's own symbols (libc is linked into Node). */
function libcNames(): (string | null)[] {
  if (process.platform === 'linux') return ['libc.so.6', null];
  if (process.platform === 'darwin') return ['libSystem.dylib', '/usr/lib/libSystem.B.dylib', null];
  return [];
}

function bindCalls(koffi: Koffi): DescriptorCalls | null {
  for (const name of libcNames()) {
    try {
      const lib = koffi.load(name);
      return { dup: lib.func('int dup(int)'), dup2: lib.func('int dup2(int, int)'), close: lib.func('int close(int)') };
    } catch {
      // this name is not where libc is here: try the next
    }
  }
  return null;
}

let loaded: Promise<DescriptorCalls | null> | undefined;

/** libc's descriptor calls, or null where they cannot be had (a browser, Windows, no koffi). */
export function descriptorCalls(): Promise<DescriptorCalls | null> {
  if (isBrowser || typeof process === 'undefined' || libcNames().length === 0) return Promise.resolve(null);
  // Without koffi (not installed, no prebuilt binary for this platform) there are none.
  loaded ??= loadKoffi().then(bindCalls, () => null);
  return loaded;
}
