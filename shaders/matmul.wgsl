// y[M, N] = x[M, K] · w[N, K]ᵀ (+ bias[N]) for M > 1 (prefill, vision). Register-tiled: a workgroup of
// 16×16 threads owns a 64×64 output tile, walks K in chunks of 32 (one kvq1 block), dequantises the weight
// chunk once into workgroup memory, and each thread accumulates a 4×4 sub-tile.
// Dispatch: (ceil(N / 64), ceil(M / 64)). A weight in parts (output rows) takes one dispatch per part:
// N is the part's rows, written at columns Y_OFF.. of y rows Y_STRIDE apart (one part: 0 and N).
const TILE: u32 = 64u;
const KC: u32 = 32u;

#include "common/matmul_io.wgsl"

var<workgroup> xs: array<array<f32, 33>, 64>;  // [m][k], padded against bank conflicts
var<workgroup> ws: array<array<f32, 33>, 64>;  // [n][k]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < u.K; k0 += KC) {
    // 64×32 elements of each operand, 8 per thread.
    for (var i = 0u; i < 8u; i++) {
      let e = tid + i * 256u;
      let r = e / KC;
      let c = e % KC;
      let k = k0 + c;
      let m = m0 + r;
      let n = n0 + r;
      xs[r][c] = select(0.0, x[m * u.K + k], m < u.M && k < u.K);
      ws[r][c] = select(0.0, w_elem(n, k), n < u.N && k < u.K);
    }
    workgroupBarrier();
    for (var c = 0u; c < KC; c++) {
      var xv: array<f32, 4>;
      var wv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        xv[i] = xs[lid.y + 16u * i][c];
        wv[i] = ws[lid.x + 16u * i][c];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] += xv[i] * wv[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (m < u.M && n < u.N) {
        var r = acc[i][j];
#if HAS_BIAS
        r += bias[u.Y_OFF + n];
#endif
        y[m * u.Y_STRIDE + u.Y_OFF + n] = r;
      }
    }
  }
}
