#!/usr/bin/env bash
# tools/gpu-bench.sh: the bench suite and its PyTorch yardstick on a machine with a GPU, from
# a built checkout (dist/ and node_modules/webgpu are all flstm needs there; TensorFlow.js is
# optional). Writes under OUT (default bench/results): the adapter (info.txt), flstm's
# results (<adapter>-<date>.json/.svg, flstm.json, bench.txt) and PyTorch's on the same sizes
# (torch.json, torch.txt; needs python3 with torch, else skipped with a note).
#   NODE       the node binary (default: node)
#   VK_DRIVER_FILES / VK_ICD_FILENAMES   the Vulkan driver (e.g. the GPU vendor's ICD json)
#   BENCH_ARGS extra arguments for `flstm bench` (e.g. --quick)
#   PRESETS    the named configurations whose training steps are timed on a synthetic corpus of
#              One Billion Word's shape (default biglstm,f512,g4; empty: none), PRESET_STEPS
#              steps each (default 8): presets.txt / presets.json
set -euo pipefail
out=${OUT:-bench/results}
node=${NODE:-node}
mkdir -p "$out"
"$node" dist/cli.js info | tee "$out/info.txt"
if grep -q '^software adapter *yes' "$out/info.txt"; then
  echo "gpu-bench: the adapter is a software one; set VK_DRIVER_FILES to the GPU's Vulkan driver" >&2
  exit 1
fi
# shellcheck disable=SC2086
"$node" dist/cli.js bench --out "$out" --json "$out/flstm.json" ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.txt"
if python3 -c 'import torch' 2>/dev/null; then
  python3 bench/torch_yardstick.py --flstm "$out/flstm.json" --json "$out/torch.json" 2>&1 | tee "$out/torch.txt"
else
  echo "gpu-bench: no PyTorch here (python3 -c 'import torch' failed): no yardstick" | tee "$out/torch.txt"
fi
presets=${PRESETS-biglstm,f512,g4}
if [ -n "$presets" ]; then
  # The paper's models on the full 793,471-word vocabulary: 2 training shards suffice for a few steps.
  corpus=$(mktemp -d)/lm1b
  "$node" dist/bench/data.js --dir "$corpus" --shards 2 | tee "$out/data.txt"
  "$node" dist/bench/presets.js --data "lm1b:$corpus" --presets "$presets" --steps "${PRESET_STEPS:-8}" --json "$out/presets.json" 2>&1 | tee "$out/presets.txt"
fi
