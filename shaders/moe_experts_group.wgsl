// MoE dispatch plan on the GPU (no readback): groups the T·A (token, slot) pairs by expert.
//   order[p]    = slot index s = t·A + a, sorted by expert (order inside an expert is irrelevant:
//                 every slot's output is computed independently)
//   tiles[3·i]  = (expert, start in order, count ≤ TM) for i < MAX_TILES; unused tiles have count 0.
// Dispatch: one workgroup. Counting and scatter use workgroup atomics; thread 0 prefix-sums and tiles.
override WG: u32 = 256;
const MAX_E: u32 = 256u;

@group(0) @binding(1) var<storage, read> ids: array<u32>;            // [S] = [T, A]
@group(0) @binding(2) var<storage, read_write> order: array<u32>;    // [S]
@group(0) @binding(3) var<storage, read_write> tiles: array<u32>;    // [MAX_TILES, 3]

var<workgroup> cnt: array<atomic<u32>, MAX_E>;
var<workgroup> cursor: array<atomic<u32>, MAX_E>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  for (var e = tid; e < u.E; e += WG) { atomicStore(&cnt[e], 0u); }
  workgroupBarrier();
  for (var s = tid; s < u.S; s += WG) { atomicAdd(&cnt[ids[s]], 1u); }
  workgroupBarrier();
  if (tid == 0u) {
    var off = 0u;
    var n = 0u;
    for (var e = 0u; e < u.E; e++) {
      let c = atomicLoad(&cnt[e]);
      atomicStore(&cursor[e], off);
      for (var k = 0u; k < c; k += u.TM) {
        tiles[3u * n] = e;
        tiles[3u * n + 1u] = off + k;
        tiles[3u * n + 2u] = min(u.TM, c - k);
        n++;
      }
      off += c;
    }
    for (; n < u.MAX_TILES; n++) {
      tiles[3u * n] = 0u;
      tiles[3u * n + 1u] = 0u;
      tiles[3u * n + 2u] = 0u;
    }
  }
  workgroupBarrier();
  for (var s = tid; s < u.S; s += WG) {
    let p = atomicAdd(&cursor[ids[s]], 1u);
    order[p] = s;
  }
}
