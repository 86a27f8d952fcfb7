// y[M, N] = x[M, K] · w[N, K]ᵀ (+ bias[N]) for M > 1 (prefill, vision): the big-tile GEMM
// (common/matmul_tiled_core.wgsl: BM × BN outputs per workgroup (64×64 .. 128×128, 32×64), k-major
// vec4 tiles in f32 / f16 / packed f16, double-buffered, weights dequantised once per tile).
// Dispatch: (ceil(N / BN), ceil(M / BM)). A weight in parts (output rows) takes one dispatch per part:
// N is the part's rows, written at columns Y_OFF.. of y rows Y_STRIDE apart (one part: 0 and N).
#include "common/matmul_io.wgsl"
#include "common/matmul_tiled_core.wgsl"

var<private> m0: u32;  // first row of this workgroup's tile
var<private> n0: u32;  // first column (weight row of this part)

fn tile_x4(r: u32, k: u32) -> vec4<f32> {
  let m = m0 + r;
  if (m >= u.M || k >= u.K) { return vec4<f32>(0.0); }
  let e = m * u.K + k;
  let last = u.M * u.K - 1u;  // quads past K in the last row stay inside x (then dropped)
  return vec4<f32>(
    x[e],
    select(0.0, x[min(e + 1u, last)], k + 1u < u.K),
    select(0.0, x[min(e + 2u, last)], k + 2u < u.K),
    select(0.0, x[min(e + 3u, last)], k + 3u < u.K),
  );
}

fn tile_w4(c: u32, k: u32) -> vec4<f32> {
  let n = n0 + c;
  if (n >= u.N) { return vec4<f32>(0.0); }
  return w_quad(n, k);
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  m0 = wid.y * BM;
  n0 = wid.x * BN;
  gemm_tile(tid);
  for (var i = 0u; i < MV; i++) {
    for (var r = 0u; r < 4u; r++) {
      let m = m0 + lane_row(tid, i) + r;
      if (m >= u.M) { continue; }
      for (var j = 0u; j < NV; j++) {
        let n = n0 + lane_col(tid, j);
        let v = acc_block(i, j)[r];
        for (var c = 0u; c < 4u; c++) {
          if (n + c < u.N) {
            var o = v[c];
#if HAS_BIAS
            o += bias[u.Y_OFF + n + c];
#endif
            y[m * u.Y_STRIDE + u.Y_OFF + n + c] = o;
          }
        }
      }
    }
  }
}
