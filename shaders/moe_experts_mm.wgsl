// One tile of the grouped expert matmul: for the ≤ TM slots of one expert e listed by moe_experts_group,
//   out[s, n] = Σ_k in(s, k) · w[e·NOUT + n, k]      (w = stacked experts [E, NOUT, K], any W_* form)
// in(s, ·) is x[s / A] (gate/up projections: every slot of a token reads the token's row), or with
// SWIGLU_IN silu(g[s]) · up[s] (the down projection, fusing the activation into the load).
// Only the experts that some token selected are ever read, and each weight element once per tile.
// Dispatch: x = column block of TN (= WG) outputs, y = tile index; tiles with count 0 exit at once.
// An expert stack in parts (expert ranges) takes one dispatch per part: w holds experts E0 .. E0+EN only,
// expert e is its local row block e − E0, and tiles of other experts exit at once (one part: 0 and E).
override WG: u32 = 64;
const TM: u32 = 16u;
const TK: u32 = 16u;

@group(0) @binding(1) var<storage, read> xin: array<f32>;           // [T, K] (or g [S, K] with SWIGLU_IN)
#if SWIGLU_IN
@group(0) @binding(2) var<storage, read> upin: array<f32>;          // [S, K]
@group(0) @binding(3) var<storage, read> w: array<u32>;             // [EN·NOUT, K]: experts E0 .. E0+EN
@group(0) @binding(4) var<storage, read> order: array<u32>;         // [S]
@group(0) @binding(5) var<storage, read> tiles: array<u32>;         // [MAX_TILES, 3]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;     // [S, NOUT]
#else
@group(0) @binding(2) var<storage, read> w: array<u32>;             // [EN·NOUT, K]: experts E0 .. E0+EN
@group(0) @binding(3) var<storage, read> order: array<u32>;         // [S]
@group(0) @binding(4) var<storage, read> tiles: array<u32>;         // [MAX_TILES, 3]
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // [S, NOUT]
#endif

#include "common/weights.wgsl"

var<workgroup> tileCount: u32;
var<workgroup> slots: array<u32, TM>;
var<workgroup> xs: array<array<f32, TK>, TM>;

fn load_in(s: u32, k: u32) -> f32 {
#if SWIGLU_IN
  let g = xin[s * u.K + k];
  return g / (1.0 + exp(-g)) * upin[s * u.K + k];
#else
  return xin[(s / u.A) * u.K + k];
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let tile = wid.y;
  if (tid == 0u) {
    let te = tiles[3u * tile];
    tileCount = select(0u, tiles[3u * tile + 2u], te >= u.E0 && te - u.E0 < u.EN);
  }
  let count = workgroupUniformLoad(&tileCount);
  if (count == 0u) { return; }
  let e = tiles[3u * tile] - u.E0;
  let start = tiles[3u * tile + 1u];
  if (tid < TM) { slots[tid] = select(0u, order[start + tid], tid < count); }
  workgroupBarrier();
  let n = wid.x * WG + tid;
  let row = e * u.NOUT + n;
  var acc: array<f32, TM>;
  for (var k0 = 0u; k0 < u.K; k0 += TK) {
    for (var i = tid; i < TM * TK; i += WG) {
      let m = i / TK;
      let kk = i % TK;
      var v = 0.0;
      if (m < count && k0 + kk < u.K) { v = load_in(slots[m], k0 + kk); }
      xs[m][kk] = v;
    }
    workgroupBarrier();
    if (n < u.NOUT) {
      let kEnd = min(TK, u.K - k0);
      for (var kk = 0u; kk < kEnd; kk++) {
        let wv = w_elem(row, k0 + kk);
        for (var m = 0u; m < count; m++) { acc[m] += xs[m][kk] * wv; }  // decode: count = 1
      }
    }
    workgroupBarrier();
  }
  if (n < u.NOUT) {
    for (var m = 0u; m < count; m++) { out[slots[m] * u.NOUT + n] = acc[m]; }
  }
}
