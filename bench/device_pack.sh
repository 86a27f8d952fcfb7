#!/usr/bin/env bash
# Run HERE (the dev machine, with npm registry access) before a device run: packs what bench/device_run.sh
# needs into .cache/device/ (git-ignored; name it in the device tool's `carry`), well under 64 MiB:
#   node_modules.tgz  the production closure of vite + tsx + webgpu (Dawn for Node, linux-x64 only)
#   lib/libvulkan.so.1  a Vulkan loader (Chromium's copy) in case the device has none
#   tiny-a/           the tiny golden checkpoint (../shared does not travel)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.cache/device
rm -rf "$DEST" && mkdir -p "$DEST/lib" "$DEST/stage/node_modules"

# Dawn for Node: prebuilt dawn.node per platform, postinstall only matters on macOS (--ignore-scripts is safe).
WEBGPU_VERSION=${WEBGPU_VERSION:-0.6.2}
if [ ! -d node_modules/webgpu ]; then
  (cd "$DEST" && npm pack "webgpu@$WEBGPU_VERSION" --silent >/dev/null && mkdir -p stage/node_modules/webgpu &&
    tar -xzf "webgpu-$WEBGPU_VERSION.tgz" -C stage/node_modules/webgpu --strip-components=1 && rm "webgpu-$WEBGPU_VERSION.tgz")
else
  cp -r node_modules/webgpu "$DEST/stage/node_modules/"
fi
find "$DEST/stage/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +

# Production dependency closure (dependencies + installed optionalDependencies) of the entry packages.
node - "$DEST/stage/node_modules" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const stage = process.argv[2];
const seen = new Set();
const queue = ['vite', 'tsx', 'debug'];
const webgpuPkg = JSON.parse(fs.readFileSync(path.join(stage, 'webgpu/package.json'), 'utf8'));
queue.push(...Object.keys(webgpuPkg.dependencies ?? {}).filter((d) => d !== '@webgpu/types'));
while (queue.length) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  const dir = path.join('node_modules', name);
  if (!fs.existsSync(path.join(dir, 'package.json'))) continue; // an optional dep for another platform
  seen.add(name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  queue.push(...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}));
}
for (const name of seen) fs.cpSync(path.join('node_modules', name), path.join(stage, name), { recursive: true });
fs.mkdirSync(path.join(stage, '.bin'), { recursive: true });
console.log(`packed ${seen.size} packages + webgpu`);
EOF
tar -czf "$DEST/node_modules.tgz" -C "$DEST/stage" node_modules
rm -rf "$DEST/stage"

for lib in /usr/lib/chromium/libvulkan.so.1 /usr/lib/x86_64-linux-gnu/libvulkan.so.1; do
  if [ -f "$lib" ]; then cp -L "$lib" "$DEST/lib/libvulkan.so.1"; break; fi
done
TINY=${KIMI_VL_TINY:-../shared/golden/models/tiny-a}
[ -f "$TINY/config.json" ] && cp -r "$TINY" "$DEST/tiny-a"
du -sh "$DEST"/*
echo "carry .cache/device in the device run; command: bash bench/device_run.sh"
