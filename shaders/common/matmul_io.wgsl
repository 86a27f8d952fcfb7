// The bindings of both M > 1 matmul kernels (matmul.wgsl tiled, matmul_direct.wgsl), and the weight reads.
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [M, K]
@group(0) @binding(2) var<storage, read> w: array<u32>;        // [N, K] in the W_* storage form (one part)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [M, Y_STRIDE]: columns Y_OFF .. Y_OFF+N
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;     // [Y_STRIDE]
#endif

#include "common/weights.wgsl"
