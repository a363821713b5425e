// Adapter discovery: the machine's own GPU first; on a machine without one, the software
// Vulkan drivers it may have (lavapipe, SwiftShader); else one clear message saying what to install.
import { SOFTWARE_VULKAN_ICDS, env, fileExists, gpuEntry, isBrowser, setEnv } from './platform.js';
import { withoutDawnWarnings } from './native_stderr.js';

export interface AdapterRequest {
  powerPreference?: GPUPowerPreference;
  /** Substring matched against the adapter description/vendor, or a path to a Vulkan ICD json (Node). */
  adapter?: string;
  /**
   * Node: let Dawn's two native "Warning: maxDynamic... artificially reduced" lines through to
   * stderr (default: they are filtered out; anything else native code prints is kept).
   */
  dawnWarnings?: boolean;
}

export interface FoundAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  /** The Vulkan ICD file we pointed the loader at, when we had to pick a software driver. */
  icd?: string;
}

export const NO_ADAPTER_HELP = [
  'flstm: no WebGPU adapter found.',
  'Install a GPU driver with Vulkan support, or on a machine without a GPU a software Vulkan driver:',
  '  Debian 12: Mesa >= 23 lavapipe from bookworm-backports',
  "    echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list",
  '    apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers',
  '  (Mesa 22 lavapipe lacks a Vulkan feature Dawn needs.) `bash tools/setup.sh` does this.',
  "  Other distributions: mesa-vulkan-drivers (lavapipe), or Chromium's SwiftShader, via VK_ICD_FILENAMES=/path/to/icd.json.",
].join('\n');

async function tryAdapter(req: AdapterRequest): Promise<FoundAdapter | null> {
  const gpu = await gpuEntry();
  if (!gpu) return null;
  const request = () => gpu.requestAdapter({ powerPreference: req.powerPreference ?? 'high-performance' });
  const adapter = req.dawnWarnings ? await request() : await withoutDawnWarnings(request);
  return adapter ? { gpu, adapter } : null;
}

export async function findAdapter(req: AdapterRequest = {}): Promise<FoundAdapter> {
  if (isBrowser) {
    if (!(navigator as Navigator).gpu) {
      throw new Error(
        'flstm: this browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome or Edge; on Linux start it with --enable-unsafe-webgpu.',
      );
    }
    const found = await tryAdapter(req);
    if (!found)
      throw new Error(
        'flstm: navigator.gpu.requestAdapter() returned no adapter. Check chrome://gpu; on Linux try --enable-unsafe-webgpu --enable-features=Vulkan.',
      );
    return found;
  }
  if (req.adapter && req.adapter.endsWith('.json')) {
    if (!(await fileExists(req.adapter))) throw new Error(`flstm: adapter ICD file ${req.adapter} does not exist`);
    setEnv('VK_ICD_FILENAMES', req.adapter);
    const found = await tryAdapter(req);
    if (!found) throw new Error(`flstm: the Vulkan driver ${req.adapter} gave no WebGPU adapter.\n${NO_ADAPTER_HELP}`);
    return { ...found, icd: req.adapter };
  }
  const first = await tryAdapter(req);
  if (first) return first;
  // Nothing from the loader's default search: point it at each software driver in turn,
  // unless the user chose one explicitly (then say that one failed).
  const chosen = env('VK_ICD_FILENAMES') ?? env('VK_DRIVER_FILES');
  if (chosen)
    throw new Error(
      `flstm: no WebGPU adapter from the Vulkan driver(s) in VK_ICD_FILENAMES/VK_DRIVER_FILES=${chosen}.\n${NO_ADAPTER_HELP}`,
    );
  for (const icd of SOFTWARE_VULKAN_ICDS) {
    if (!(await fileExists(icd))) continue;
    setEnv('VK_ICD_FILENAMES', icd);
    const found = await tryAdapter(req);
    if (found) return { ...found, icd };
  }
  throw new Error(NO_ADAPTER_HELP);
}
