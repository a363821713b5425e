// koffi (an FFI with prebuilt binaries), loaded on first use, in Node only: libc's descriptor
// calls (descriptors.ts) and MPI (src/distributed/mpi.ts) go through it. A variable specifier
// keeps bundlers from pulling its native addon into the browser's bundle.

/** The part of koffi's API flstm uses. */
export interface KoffiLibrary {
  func(definition: string): (...args: any[]) => any;
  symbol(name: string, type: string): unknown;
}
export interface Koffi {
  load(path: string | null): KoffiLibrary;
  /** A C function type, e.g. 'void f(void *a, int *n)', for callbacks. */
  proto(definition: string): unknown;
  pointer(type: unknown): unknown;
  /** A C function pointer that calls `callback` (until unregistered). */
  register(callback: (...args: any[]) => unknown, type: unknown): unknown;
  /** `length` bytes of memory at a C pointer, without a copy. */
  view(pointer: unknown, length: number): ArrayBuffer;
  decode(pointer: unknown, type: string): any;
}

let loaded: Promise<Koffi> | undefined;

/** koffi's module; rejects with the reason where it cannot load (not installed, no binary for this platform). */
export function loadKoffi(): Promise<Koffi> {
  loaded ??= (async () => {
    const name = 'koffi';
    const mod = (await import(/* @vite-ignore */ name)) as Koffi & { default?: Koffi };
    const koffi = typeof mod.load === 'function' ? mod : mod.default;
    if (!koffi) throw new Error('the koffi module has no load()');
    return koffi;
  })();
  return loaded;
}
