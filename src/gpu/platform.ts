// The one place that knows whether we run in Node (Dawn through the `webgpu` package) or in
// a browser (navigator.gpu). Everything else sees a plain `GPU` object.

export const isBrowser = typeof window !== 'undefined' && typeof navigator !== 'undefined';

/** Software Vulkan drivers that Dawn can use on a machine without a GPU, in order of preference. */
export const SOFTWARE_VULKAN_ICDS = [
  // Mesa lavapipe (Debian: mesa-vulkan-drivers; >= 23 needed, bookworm-backports has 25).
  '/usr/share/vulkan/icd.d/lvp_icd.json',
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json',
  // SwiftShader as Debian's chromium package ships it (slower than lavapipe: the last resort).
  '/usr/lib/chromium/vk_swiftshader_icd.json',
];

interface NodeWebGPU {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let nodeModule: NodeWebGPU | null = null;

async function loadNodeWebGPU(): Promise<NodeWebGPU> {
  if (!nodeModule) {
    // A variable specifier keeps bundlers from pulling the native addon into browser builds.
    const name = 'webgpu';
    const mod = (await import(/* @vite-ignore */ name)) as NodeWebGPU & { default?: NodeWebGPU };
    nodeModule = typeof mod.create === 'function' ? mod : mod.default!;
    // GPUBufferUsage, GPUMapMode, ... as globals, as a browser has them.
    for (const [k, v] of Object.entries(nodeModule.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
  }
  return nodeModule;
}

/**
 * Dawn toggles every Node instance gets: on NVIDIA's Vulkan driver Dawn hides shader-f16
 * unless vulkan_enable_f16_on_nvidia is on (other drivers ignore it). FLSTM_DAWN_FEATURES adds
 * more (comma-separated Dawn toggle names).
 */
export function dawnToggles(): string[] {
  const extra = (env('FLSTM_DAWN_FEATURES') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return [...new Set(['vulkan_enable_f16_on_nvidia', ...extra])];
}

/** A fresh GPU entry point. In Node each call makes a new Dawn instance, which re-reads the
 * Vulkan loader's environment (so a changed VK_ICD_FILENAMES takes effect). */
export async function gpuEntry(): Promise<GPU | null> {
  if (isBrowser) return (navigator as Navigator).gpu ?? null;
  const m = await loadNodeWebGPU();
  return m.create([`enable-dawn-features=${dawnToggles().join(',')}`]);
}

/**
 * A turn of the event loop: Node's setImmediate (signal handlers run in it), else a message
 * (a browser clamps nested timers to 4 ms or more).
 */
export function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

export function env(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] : undefined;
}

export function setEnv(name: string, value: string): void {
  if (typeof process !== 'undefined' && process.env) process.env[name] = value;
}

export async function fileExists(path: string): Promise<boolean> {
  if (isBrowser) return false;
  const fs = await import(/* @vite-ignore */ 'node:fs');
  return fs.existsSync(path);
}
