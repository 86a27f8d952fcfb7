// The big-tile GEMM core shared by matmul_tiled.wgsl (dense) and matmul_tiled_moe.wgsl (grouped experts):
// acc = X_tile[BM, K] · W_tile[BN, K]ᵀ for one workgroup's output tile. The including entry defines
//   fn tile_x4(r: u32, k: u32) -> vec4<f32>  // activations of tile row r < BM at k .. k+3 (0 past K or rows)
//   fn tile_w4(c: u32, k: u32) -> vec4<f32>  // weights of tile column c < BN at k .. k+3 (0 past K or rows)
// and reads the lane's block from `acc` afterwards (acc[i·4 + r][j] = rows ly·4 + 64·i + r, columns
// lx·4 + 64·j .. +3). w_quad below reads 4 consecutive weights of one row in any W_* storage form.
//
// Lanes: 256 as 16 × 16 (lx = tid % 16 along N, ly = tid / 16 along M). A lane owns a (4·MV) × (4·NV)
// block of outputs: rows ly·4 + 64·i + {0..3} (i < MV), columns lx·4 + 64·j + {0..3} (j < NV), so
// BM = 64·MV and BN = 64·NV (64×64, 128×64, 128×128).
// K is walked in chunks of KC. Both operands are staged k-major (xs[k][m/4], ws[k][n/4] as vec4 along m
// and n), so for each k a lane reads MV + NV vec4s and does 16·MV·NV FMAs (8×8: 4 reads per 64 FMAs).
// Staging unit: 4 rows × 4 consecutive k of one operand (4 global quads, transposed into 4 k-major vec4
// writes). (BM + BN)·KC / 16 ≤ 256, so each lane stages at most one unit per chunk, always the same role.
// Weights are dequantised while staging (one kvq1 scale per unit): once per tile, not once per use.
// Double buffering: two tile buffers. The next chunk's unit is loaded into registers before this chunk's
// FMAs and written to the other buffer after them: one barrier per chunk, global latency behind the math.
// Tiles are f32, f16 (shader-f16) or f16 packed two per u32 (TILES_F16 without NATIVE_F16): f16 halves the
// workgroup memory and its traffic; accumulation is f32 in every variant.
// Private arrays are indexed only by loop counters bounded by overrides (constants once the pipeline is
// created), so they unroll into registers.
#if NATIVE_F16
enable f16;
#endif

override MV: u32;        // vec4 row groups per lane along M: BM = 64·MV (1 or 2)
override NV: u32;        // vec4 column groups per lane along N: BN = 64·NV (1 or 2)
override KC: u32;        // k per chunk: a multiple of 4 that divides 32
override XS_VEC4S: u32;  // 2 · KC · BM / 4: both buffers of the activation tile
override WS_VEC4S: u32;  // 2 · KC · BN / 4: both buffers of the weight tile

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
var<private> acc: array<array<vec4<f32>, 2>, 8>;  // [4·MV][NV] the lane's output block
var<private> staged: array<vec4<f32>, 4>;           // the lane's staged unit: 4 rows × 4 k

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
  let sh = 4u * (k & 7u);
  let q = (vec4<u32>(word) >> vec4<u32>(sh, sh + 4u, sh + 8u, sh + 12u)) & vec4<u32>(15u);
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

/// Loads this lane's unit of the chunk starting at k0 into registers (lanes past the units load nothing).
fn load_unit(tid: u32, k0: u32) {
  let quads = KC / 4u;  // k quads per row in a chunk
  let xUnits = 16u * MV * quads;  // (BM / 4) · quads
  if (tid < xUnits) {
    let r = (tid / quads) * 4u;
    let k = k0 + (tid % quads) * 4u;
    for (var i = 0u; i < 4u; i++) { staged[i] = tile_x4(r + i, k); }
  } else if (tid < xUnits + 16u * NV * quads) {
    let v = tid - xUnits;
    let c = (v / quads) * 4u;
    let k = k0 + (v % quads) * 4u;
    for (var i = 0u; i < 4u; i++) { staged[i] = tile_w4(c + i, k); }
  }
}

/// Writes the unit transposed (4 k-major vec4s of 4 rows each) into tile buffer `buf`.
fn store_unit(tid: u32, buf: u32) {
  let quads = KC / 4u;
  let xUnits = 16u * MV * quads;
  if (tid < xUnits) {
    let base = buf * KC * 16u * MV + (tid % quads) * 4u * 16u * MV + tid / quads;
    for (var j = 0u; j < 4u; j++) {
      xs[base + j * 16u * MV] = to_tile(vec4<f32>(staged[0][j], staged[1][j], staged[2][j], staged[3][j]));
    }
  } else if (tid < xUnits + 16u * NV * quads) {
    let v = tid - xUnits;
    let base = buf * KC * 16u * NV + (v % quads) * 4u * 16u * NV + v / quads;
    for (var j = 0u; j < 4u; j++) {
      ws[base + j * 16u * NV] = to_tile(vec4<f32>(staged[0][j], staged[1][j], staged[2][j], staged[3][j]));
    }
  }
}

/// The FMAs of one staged chunk: per k, MV + NV vec4 reads and (4·MV)·(4·NV) FMAs.
fn multiply_chunk(buf: u32, lx: u32, ly: u32) {
  let xb = buf * KC * 16u * MV;
  let wb = buf * KC * 16u * NV;
  for (var k = 0u; k < KC; k++) {
    var xv: array<vec4<f32>, 2>;
    var wv: array<vec4<f32>, 2>;
    for (var i = 0u; i < MV; i++) { xv[i] = from_tile(xs[xb + k * 16u * MV + i * 16u + ly]); }
    for (var j = 0u; j < NV; j++) { wv[j] = from_tile(ws[wb + k * 16u * NV + j * 16u + lx]); }
    for (var i = 0u; i < MV; i++) {
      for (var r = 0u; r < 4u; r++) {
        let a = vec4<f32>(xv[i][r]);
        for (var j = 0u; j < NV; j++) { acc[i * 4u + r][j] = fma(a, wv[j], acc[i * 4u + r][j]); }
      }
    }
  }
}

/// acc = the lane's block of X_tile · W_tileᵀ over all of K. Call from uniform control flow.
fn gemm_tile(tid: u32) {
  let lx = tid % 16u;
  let ly = tid / 16u;
  for (var r = 0u; r < 8u; r++) {
    acc[r][0] = vec4<f32>(0.0);
    acc[r][1] = vec4<f32>(0.0);
  }
  let chunks = (u.K + KC - 1u) / KC;
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
}
