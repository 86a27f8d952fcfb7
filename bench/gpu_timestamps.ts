// GPU busy time from timestamp queries, measured from outside the engine: the bench wraps the device's
// createCommandEncoder so every compute pass the runtime begins writes a begin and an end timestamp into
// one query set; resolving happens inside each command buffer (no extra submit), and the results are
// read once when the measurement ends. GPU-idle time per token = wall time − Σ pass durations.
// Without 'timestamp-query' on the device this is unavailable and says so (null).

const MAX_QUERIES = 4096;
/** resolveQuerySet's destination offset must be a multiple of 256 bytes: 32 timestamps. */
const RESOLVE_ALIGN = 256 / 8;

export interface PassTimer {
  /** Σ (end − begin) over the passes recorded since start, in ms; the wrapper is removed. */
  stop(): Promise<{ busyMs: number; passes: number; overflowed: boolean }>;
}

export function startPassTimer(device: GPUDevice): PassTimer | null {
  if (!device.features.has('timestamp-query')) return null;
  const querySet = device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
  const resolve = device.createBuffer({
    size: MAX_QUERIES * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  let next = 0;
  let passes = 0;
  let overflowed = false;
  const original = device.createCommandEncoder;
  const dev = device as { createCommandEncoder: GPUDevice['createCommandEncoder'] };
  dev.createCommandEncoder = (desc?: GPUCommandEncoderDescriptor) => {
    const enc = original.call(device, desc);
    const begin = enc.beginComputePass.bind(enc);
    const finish = enc.finish.bind(enc);
    let first = -1;
    enc.beginComputePass = (d?: GPUComputePassDescriptor) => {
      // Each command buffer resolves its own range, so it starts on an aligned index; the skipped slots
      // stay zero in the resolve buffer and are not counted (end > begin fails).
      const start = first < 0 ? Math.ceil(next / RESOLVE_ALIGN) * RESOLVE_ALIGN : next;
      if (start + 2 > MAX_QUERIES) {
        overflowed = true;
        return begin(d);
      }
      if (first < 0) first = start;
      const at = start;
      next = start + 2;
      passes++;
      return begin({
        ...d,
        timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 },
      });
    };
    enc.finish = (d?: GPUCommandBufferDescriptor) => {
      if (first >= 0) enc.resolveQuerySet(querySet, first, next - first, resolve, first * 8);
      return finish(d);
    };
    return enc;
  };
  return {
    async stop() {
      dev.createCommandEncoder = original;
      const read = device.createBuffer({
        size: Math.max(8, next * 8),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const enc = original.call(device);
      if (next > 0) enc.copyBufferToBuffer(resolve, 0, read, 0, next * 8);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      read.destroy();
      resolve.destroy();
      querySet.destroy();
      let ns = 0;
      for (let i = 0; i + 1 < next; i += 2) if (t[i + 1]! > t[i]!) ns += Number(t[i + 1]! - t[i]!);
      return { busyMs: ns / 1e6, passes, overflowed };
    },
  };
}
