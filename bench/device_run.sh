#!/usr/bin/env bash
# One-shot benchmark on a fresh Linux x86-64 machine with an NVIDIA GPU (no internet, no apt), writing
# into $OUT: latest.{md,json,svg} + device_run.log. Prepare here first: `bash bench/device_pack.sh`, then
# run there with `.cache/device` carried (and `.gl` too if you brought the Vulkan loader debs).
#   - Chromium present (chromium / google-chrome on PATH, or KIMI_VL_CHROMIUM): `kimi-vl bench --hardware`
#     in headless Chromium, with the ONNX Runtime Web peer (needs the full node_modules).
#   - No Chromium (the usual case there): the same kernel and end-to-end sections on Dawn for Node
#     (npm `webgpu`) over the NVIDIA Vulkan driver; the peer rows say why they were not run.
# BENCH_FLAGS (default --quick) are passed on.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/bench/results/device}
mkdir -p "$OUT"
exec > >(tee "$OUT/device_run.log") 2>&1
BENCH_FLAGS=${BENCH_FLAGS:---quick}
PACK=.cache/device

echo "== machine"
uname -m; nvidia-smi -L 2>/dev/null || echo "nvidia-smi: not found"; node --version || { echo "no node"; exit 2; }

if [ ! -d node_modules/vite ] || [ ! -d node_modules/webgpu ]; then
  [ -f "$PACK/node_modules.tgz" ] || { echo "no node_modules: run bash bench/device_pack.sh and carry $PACK"; exit 2; }
  tar -xzf "$PACK/node_modules.tgz"
fi

echo "== vulkan"
for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
ldconfig 2>/dev/null || true
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "no system Vulkan loader: using $PACK/lib"
  export LD_LIBRARY_PATH="$PWD/$PACK/lib:${LD_LIBRARY_PATH:-}"
fi
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
done
echo "ICD: ${VK_DRIVER_FILES:-none found (Dawn will list what the loader finds)}"

TINY=../shared/golden/models/tiny-a
[ -f "$TINY/config.json" ] || TINY=$PACK/tiny-a

CHROME=${KIMI_VL_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -n "$CHROME" ] && [ -d node_modules/playwright-core ] && [ -d node_modules/onnxruntime-web ]; then
  echo "== kimi-vl bench --hardware $BENCH_FLAGS in $CHROME"
  KIMI_VL_CHROMIUM="$CHROME" timeout 540 node bin/kimi-vl.mjs bench --hardware $BENCH_FLAGS --tiny "$TINY" --out "$OUT"
else
  echo "== no usable Chromium (browser: ${CHROME:-none on PATH}; playwright-core/onnxruntime-web carried: no)"
  echo "== Dawn for Node instead (npm webgpu), no ONNX Runtime Web peer"
  timeout 540 node node_modules/tsx/dist/cli.mjs bench/dawn_run.ts $BENCH_FLAGS --tiny "$TINY" --out "$OUT"
fi
rc=$?
echo "== exit $rc"
exit $rc
