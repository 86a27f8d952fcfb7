// The big-tile GEMM core shared by matmul_tiled.wgsl (dense) and matmul_tiled_moe.wgsl (grouped experts):
// acc = X_tile[BM, K] · W_tile[BN, K]ᵀ for one workgroup's output tile. The including entry defines
//   fn tile_x4(r: u32, k: u32) -> vec4<f32>  // activations of tile row r < BM at k .. k+3 (0 past K or rows)
//   fn tile_w4(c: u32, k: u32) -> vec4<f32>  // weights of tile column c < BN at k .. k+3 (0 past K or rows)
// and reads the lane's block with acc_block(i, j)[r] afterwards (rows lane_row(tid, i) + r, columns
// lane_col(tid, j) .. +3). w_quad below reads 4 consecutive weights of one row in any W_* storage form.
//
// Lanes: LANES as 16 × LY (lx = tid % 16 along N, ly = tid / 16 along M). A lane owns a (4·MV) × (4·NV)
// block of outputs: rows ly·4 + 4·LY·i + {0..3} (i < MV), columns lx·4 + 64·j + {0..3} (j < NV), so
// BM = 4·LY·MV and BN = 64·NV. Many lanes (GPUs): 256 (128 for 32-row tiles), blocks up to 8×8. Few lanes
// (CPU adapters): MV = 4, blocks of 16×4 or 16×8, so fewer workgroup-memory reads per FMA (see STAGE_ALL).
// K is walked in chunks of KC. Both operands are staged k-major (xs[k][m/4], ws[k][n/4] as vec4 along m
// and n), so for each k a lane reads MV + NV vec4s and does 16·MV·NV FMAs (8×8: 4 reads per 64 FMAs).
// Staging unit: 4 rows × 4 consecutive k of one operand (4 global quads, transposed into 4 k-major vec4
// writes). Many lanes: (BM + BN)·KC / 16 ≤ LANES, so each lane stages at most one unit per chunk.
// Weights are dequantised while staging (one kvq1 scale per unit): once per tile, not once per use.
// Double buffering: two tile buffers. The next chunk's unit is loaded into registers before this chunk's
// FMAs and written to the other buffer after them: one barrier per chunk, global latency behind the math.
// STAGE_ALL (few lanes): one tile buffer, every unit of a chunk staged in a loop over the lanes, two
// barriers per chunk, KC up to 32. A CPU adapter runs 4 lanes as one SIMD register and turns each
// workgroup-memory read at lane-varying addresses into a gather, so what counts there is gathers per FMA
// (MV + NV vec4s per 16·MV·NV FMAs) and barriers per k; latency hiding buys nothing (SwiftShader, q4 M = 32
// 1152→4304: 32 lanes 16×8 kc=32 2.0× faster than 128 lanes 4×4 kc=16 double-buffered).
// Tiles are f32, f16 (shader-f16) or f16 packed two per u32 (TILES_F16 without NATIVE_F16): f16 halves the
// workgroup memory and its traffic; accumulation is f32 in every variant.
// The lane's accumulators and staged unit are named variables chosen by the MV2 / MV4 / NV2 defines (no
// private arrays), so they live in registers even where the compiler does not unroll loops.
#if NATIVE_F16
enable f16;
#endif

override MV: u32;        // vec4 row groups per lane along M (1, 2 or 4)
override NV: u32;        // vec4 column groups per lane along N (1 or 2)
override LANES: u32;     // workgroup size: 16 · LY
const LX: u32 = 16u;     // lanes along N
override LY: u32 = LANES / LX;    // lanes along M
override BM: u32 = 4u * LY * MV;  // tile rows
override BN: u32 = 4u * LX * NV;  // tile columns
override KC: u32;        // k per chunk: a multiple of 4 that divides 32
override XS_VEC4S: u32;  // 2 · KC · BM / 4: both buffers of the activation tile (one with STAGE_ALL)
override WS_VEC4S: u32;  // 2 · KC · BN / 4: both buffers of the weight tile (one with STAGE_ALL)

#if TILES_F16
#if NATIVE_F16
alias TileVec = vec4<f16>;
fn to_tile(v: vec4<f32>) -> vec4<f16> { return vec4<f16>(v); }
fn from_tile(v: vec4<f16>) -> vec4<f32> { return vec4<f32>(v); }
#else
alias TileVec = vec2<u32>;
fn to_tile(v: vec4<f32>) -> vec2<u32> { return vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw)); }
fn from_tile(v: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y)); }
#endif
#else
alias TileVec = vec4<f32>;
fn to_tile(v: vec4<f32>) -> vec4<f32> { return v; }
fn from_tile(v: vec4<f32>) -> vec4<f32> { return v; }
#endif

var<workgroup> xs: array<TileVec, XS_VEC4S>;  // [2][KC][BM/4]
var<workgroup> ws: array<TileVec, WS_VEC4S>;  // [2][KC][BN/4]
// The lane's output block as 4×4 sub-blocks c{i}{j} (row lane_row(i) + r as column r of the matrix,
// columns lane_col(j) .. +3): named variables, never an array indexed by a loop counter, because a
// compiler that does not unroll (SwiftShader: ~5x slower) keeps such arrays in memory.
var<private> c00: mat4x4<f32>;
#if NV2
var<private> c01: mat4x4<f32>;
#endif
#if MV2
var<private> c10: mat4x4<f32>;
#if NV2
var<private> c11: mat4x4<f32>;
#endif
#endif
#if MV4
var<private> c20: mat4x4<f32>;
var<private> c30: mat4x4<f32>;
#if NV2
var<private> c21: mat4x4<f32>;
var<private> c31: mat4x4<f32>;
#endif
#endif
// The lane's staged unit: 4 rows × 4 k (named, for the same reason).
var<private> s0: vec4<f32>;
var<private> s1: vec4<f32>;
var<private> s2: vec4<f32>;
var<private> s3: vec4<f32>;

/// The lane's sub-block (i, j) of the output (for the entry's epilogue; i < MV, j < NV).
fn acc_block(i: u32, j: u32) -> mat4x4<f32> {
#if MV4
#if NV2
  if (i == 2u && j == 1u) { return c21; }
  if (i == 3u && j == 1u) { return c31; }
#endif
  if (i == 2u) { return c20; }
  if (i == 3u) { return c30; }
#endif
#if MV2
#if NV2
  if (i == 1u && j == 1u) { return c11; }
#endif
  if (i == 1u) { return c10; }
#endif
#if NV2
  if (j == 1u) { return c01; }
#endif
  return c00;
}

/// The first tile row of the lane's sub-blocks i (of 4 rows) and first tile column of sub-blocks j.
fn lane_row(tid: u32, i: u32) -> u32 { return (tid / LX) * 4u + i * 4u * LY; }
fn lane_col(tid: u32, j: u32) -> u32 { return (tid % LX) * 4u + j * 4u * LX; }

/// c + a ⊗ w: the 16 FMAs of one k for a 4×4 sub-block (row r of the block gets a[r] · w).
fn outer_fma(a: vec4<f32>, w: vec4<f32>, c: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(vec4<f32>(a.x), w, c[0]), fma(vec4<f32>(a.y), w, c[1]), fma(vec4<f32>(a.z), w, c[2]),
                     fma(vec4<f32>(a.w), w, c[3]));
}

/// Weights (row, k .. k+3) of a row-major [rows, K] weight, k a multiple of 4; 0 past K.
fn w_quad(row: u32, k: u32) -> vec4<f32> {
  if (k >= u.K) { return vec4<f32>(0.0); }  // the last chunk's quads past K
#if W_Q8
  let block = row * u.NB + (k >> 5u);
  let word = w[block * 8u + ((k & 31u) >> 2u)];
  let q = bitcast<vec4<i32>>(vec4<u32>(word << 24u, word << 16u, word << 8u, word)) >> vec4<u32>(24u);
  return vec4<f32>(q) * w_scale(block);
#endif
#if W_Q4
  let block = row * u.NB + (k >> 5u);
  let word = w[block * 4u + ((k & 31u) >> 3u)];
  // k is a multiple of 4: the quad is the word's low or high half. Shift amounts that are the same in
  // every lane (a select, then constants) stay vector shifts where lane-varying ones are split per lane
  // (SSE has no per-lane shift: SwiftShader).
  let half = select(word, word >> 16u, (k & 4u) != 0u);
  let q = (vec4<u32>(half) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u);
  return (vec4<f32>(q) - 8.0) * w_scale(block);
#endif
#if PACKED16
  // 16-bit weights with K even: element pairs never straddle rows; the second word is past K when
  // k + 2 = K (K ≡ 2 mod 4), and dropped.
  let e = (row * u.K + k) >> 1u;
  let lo = w[e];
  let hi = select(0u, w[e + 1u], k + 2u < u.K);
#if W_F16
  return vec4<f32>(unpack2x16float(lo), unpack2x16float(hi));
#endif
#if W_BF16
  return bitcast<vec4<f32>>(vec4<u32>(lo << 16u, lo & 0xffff0000u, hi << 16u, hi & 0xffff0000u));
#endif
#endif
#if W_ELEMENTWISE
  // f32 weights, and 16-bit weights with odd K (pairs straddle rows): element by element.
  let last = u.K - 1u;
  return vec4<f32>(
    w_elem(row, k),
    select(0.0, w_elem(row, min(k + 1u, last)), k + 1u < u.K),
    select(0.0, w_elem(row, min(k + 2u, last)), k + 2u < u.K),
    select(0.0, w_elem(row, min(k + 3u, last)), k + 3u < u.K),
  );
#endif
}

/// Loads unit `tid` (the lane's, or with STAGE_ALL any unit) of the chunk starting at k0 into registers
/// (units past the last load nothing).
fn load_unit(tid: u32, k0: u32) {
  let quads = KC / 4u;  // k quads per row in a chunk
  let xUnits = (BM / 4u) * quads;
  if (tid < xUnits) {
    let r = (tid / quads) * 4u;
    let k = k0 + (tid % quads) * 4u;
    s0 = tile_x4(r, k);
    s1 = tile_x4(r + 1u, k);
    s2 = tile_x4(r + 2u, k);
    s3 = tile_x4(r + 3u, k);
  } else if (tid < xUnits + (BN / 4u) * quads) {
    let v = tid - xUnits;
    let c = (v / quads) * 4u;
    let k = k0 + (v % quads) * 4u;
    s0 = tile_w4(c, k);
    s1 = tile_w4(c + 1u, k);
    s2 = tile_w4(c + 2u, k);
    s3 = tile_w4(c + 3u, k);
  }
}

/// Writes the unit transposed (4 k-major vec4s of 4 rows each) into tile buffer `buf`.
fn store_unit(tid: u32, buf: u32) {
  let quads = KC / 4u;
  let xUnits = (BM / 4u) * quads;
  if (tid < xUnits) {
    let base = buf * KC * (BM / 4u) + (tid % quads) * BM + tid / quads;
    xs[base] = to_tile(vec4<f32>(s0.x, s1.x, s2.x, s3.x));
    xs[base + BM / 4u] = to_tile(vec4<f32>(s0.y, s1.y, s2.y, s3.y));
    xs[base + 2u * (BM / 4u)] = to_tile(vec4<f32>(s0.z, s1.z, s2.z, s3.z));
    xs[base + 3u * (BM / 4u)] = to_tile(vec4<f32>(s0.w, s1.w, s2.w, s3.w));
  } else if (tid < xUnits + (BN / 4u) * quads) {
    let v = tid - xUnits;
    let base = buf * KC * (BN / 4u) + (v % quads) * BN + v / quads;
    ws[base] = to_tile(vec4<f32>(s0.x, s1.x, s2.x, s3.x));
    ws[base + BN / 4u] = to_tile(vec4<f32>(s0.y, s1.y, s2.y, s3.y));
    ws[base + 2u * (BN / 4u)] = to_tile(vec4<f32>(s0.z, s1.z, s2.z, s3.z));
    ws[base + 3u * (BN / 4u)] = to_tile(vec4<f32>(s0.w, s1.w, s2.w, s3.w));
  }
}

/// The FMAs of one staged chunk: per k, MV + NV vec4 reads and (4·MV)·(4·NV) FMAs.
fn multiply_chunk(buf: u32, lx: u32, ly: u32) {
  let xq = BM / 4u;  // vec4s per k of each tile
  let wq = BN / 4u;
  let xb = buf * KC * xq + ly;
  let wb = buf * KC * wq + lx;
  for (var k = 0u; k < KC; k++) {
    let x0 = from_tile(xs[xb + k * xq]);
    let w0 = from_tile(ws[wb + k * wq]);
    c00 = outer_fma(x0, w0, c00);
#if NV2
    let w1 = from_tile(ws[wb + k * wq + LX]);
    c01 = outer_fma(x0, w1, c01);
#endif
#if MV2
    let x1 = from_tile(xs[xb + k * xq + LY]);
    c10 = outer_fma(x1, w0, c10);
#if NV2
    c11 = outer_fma(x1, w1, c11);
#endif
#endif
#if MV4
    let x2 = from_tile(xs[xb + k * xq + 2u * LY]);
    let x3 = from_tile(xs[xb + k * xq + 3u * LY]);
    c20 = outer_fma(x2, w0, c20);
    c30 = outer_fma(x3, w0, c30);
#if NV2
    c21 = outer_fma(x2, w1, c21);
    c31 = outer_fma(x3, w1, c31);
#endif
#endif
  }
}

/// c{i}{j} = the lane's block of X_tile · W_tileᵀ over all of K. Call from uniform control flow.
fn gemm_tile(tid: u32) {
  let lx = tid % LX;
  let ly = tid / LX;
  c00 = mat4x4<f32>();
#if NV2
  c01 = mat4x4<f32>();
#endif
#if MV2
  c10 = mat4x4<f32>();
#if NV2
  c11 = mat4x4<f32>();
#endif
#endif
#if MV4
  c20 = mat4x4<f32>();
  c30 = mat4x4<f32>();
#if NV2
  c21 = mat4x4<f32>();
  c31 = mat4x4<f32>();
#endif
#endif
  let chunks = (u.K + KC - 1u) / KC;
#if STAGE_ALL
  let units = ((BM + BN) / 4u) * (KC / 4u);
  for (var c = 0u; c < chunks; c++) {
    for (var v = tid; v < units; v += LANES) {
      load_unit(v, c * KC);
      store_unit(v, 0u);
    }
    workgroupBarrier();
    multiply_chunk(0u, lx, ly);
    workgroupBarrier();  // the tile is read before the next chunk overwrites it
  }
#else
  load_unit(tid, 0u);
  store_unit(tid, 0u);
  workgroupBarrier();
  for (var c = 0u; c < chunks; c++) {
    let more = c + 1u < chunks;
    if (more) { load_unit(tid, (c + 1u) * KC); }
    multiply_chunk(c & 1u, lx, ly);
    if (more) { store_unit(tid, (c + 1u) & 1u); }
    workgroupBarrier();
  }
#endif
}
