// y[M, N] = x[M, K] · w[N, K]ᵀ (+ bias[N]) without workgroup memory: each invocation owns a 4×4 output
// block and streams its 4 x-rows and 4 w-rows along K, four values at a time. Used where barriers are
// expensive (CPU WebGPU implementations such as SwiftShader); GPUs take the tiled kernel (matmul.wgsl).
// Dispatch: (ceil(N / 32), ceil(M / 32)) workgroups of 8×8 invocations; per weight part as matmul.wgsl.
#include "common/matmul_io.wgsl"

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= u.M || n0 >= u.N) { return; }
  var acc: array<vec4<f32>, 4>;  // acc[i][j] = y[m0 + i, n0 + j]
  // Clamp the row indices so the loads stay in bounds; the stores below skip the clamped rows.
  let mr = vec4<u32>(min(m0, u.M - 1u), min(m0 + 1u, u.M - 1u), min(m0 + 2u, u.M - 1u), min(m0 + 3u, u.M - 1u));
  let nr = vec4<u32>(min(n0, u.N - 1u), min(n0 + 1u, u.N - 1u), min(n0 + 2u, u.N - 1u), min(n0 + 3u, u.N - 1u));
  for (var k = 0u; k < u.K; k++) {
    let wv = vec4<f32>(w_elem(nr.x, k), w_elem(nr.y, k), w_elem(nr.z, k), w_elem(nr.w, k));
    acc[0] += x[mr.x * u.K + k] * wv;
    acc[1] += x[mr.y * u.K + k] * wv;
    acc[2] += x[mr.z * u.K + k] * wv;
    acc[3] += x[mr.w * u.K + k] * wv;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n < u.N) {
        var r = acc[i][j];
#if HAS_BIAS
        r += bias[u.Y_OFF + n];
#endif
        y[m * u.Y_STRIDE + u.Y_OFF + n] = r;
      }
    }
  }
}
