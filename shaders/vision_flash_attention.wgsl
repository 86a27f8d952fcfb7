// MoonViT attention, FlashAttention-2 style (spec §7.4–7.5): block-diagonal per image over a packed qkv
// [L, 3·H·d] → [L, H·d], softmax scale 1/√d, no mask, no padding and no L×L score matrix (work Σ nᵢ² per head).
//
// Dispatch (tiles, H): a workgroup owns one tile of ≤ BQ = 32 queries of ONE image (the tile table holds
// [qStart, qEnd, kStart, kEnd]) and one head, and walks only that image's keys in tiles of BK, staged in
// workgroup memory (f32, f16, or f16 packed two per u32 where the adapter lacks shader-f16).
// Lanes: 16 quads × 4. A quad owns 2 queries (q0 / q1 below); lane r of a quad owns the head-dim columns
// (in vec4s) r, r+4, …, r+28 of those queries' q and o, so a staged K or V vec4 serves both queries.
// Keys go 4 at a time: the lane's partial dots for 4 keys × 2 queries are two vec4s; a score is the sum
// of the quad's four partials, by subgroupShuffleXor over 1 and 2 (WebGPU subgroups have ≥ 4 lanes; 1-D
// workgroups fill them in local index order) or, without subgroups, a pass through workgroup memory per
// staged tile. Every lane of a quad then holds the same scores and runs the online softmax itself (running
// max m, sum l, o rescaled per 4 keys), so no other exchange is needed.
// Register layout: the lane's q and o columns are named vec4 fields (Cols.c0 … c7) whose dead ones
// (c ≥ ND, an override) fold away, never private arrays indexed by loop counters: a compiler that does not
// fully unroll (SwiftShader) keeps such arrays in memory, one scattered access per lane. Columns past the
// head dim (HD = 72: lanes 2, 3 own one vec4 fewer) hold q = 0 and read a clamped in-row tile slot, so
// the inner loops carry no per-lane branches.
#if SUBGROUPS
enable subgroups;
#endif
#if NATIVE_F16
enable f16;
#endif

override HD: u32;         // head dim, a multiple of 4, ≤ 128
override BK: u32;         // keys per staged tile, a multiple of 4, ≤ 32
override ND: u32;         // vec4 columns per lane: ceil(HD / 16), ≤ 8
override TILE_VEC4S: u32; // BK · HD / 4: vec4 slots of one staged K or V tile
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;     // [L, 3·H·d/4]: q | k | v
@group(0) @binding(2) var<storage, read> tiles: array<vec4<u32>>;   // [tiles] (qStart, qEnd, kStart, kEnd)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // [L, H·d/4]

#if KV_F16
#if NATIVE_F16
var<workgroup> ks: array<vec4<f16>, TILE_VEC4S>;  // [BK, d/4] keys of the current tile
var<workgroup> vs: array<vec4<f16>, TILE_VEC4S>;  // [BK, d/4] values of the current tile
fn toTile(x: vec4<f32>) -> vec4<f16> { return vec4<f16>(x); }
fn fromTile(x: vec4<f16>) -> vec4<f32> { return vec4<f32>(x); }
#else
var<workgroup> ks: array<vec2<u32>, TILE_VEC4S>;  // [BK, d/4] keys, halves packed two per word
var<workgroup> vs: array<vec2<u32>, TILE_VEC4S>;  // [BK, d/4] values, halves packed two per word
fn toTile(x: vec4<f32>) -> vec2<u32> { return vec2<u32>(pack2x16float(x.xy), pack2x16float(x.zw)); }
fn fromTile(x: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(x.x), unpack2x16float(x.y)); }
#endif
#else
var<workgroup> ks: array<vec4<f32>, TILE_VEC4S>;  // [BK, d/4] keys of the current tile
var<workgroup> vs: array<vec4<f32>, TILE_VEC4S>;  // [BK, d/4] values of the current tile
fn toTile(x: vec4<f32>) -> vec4<f32> { return x; }
fn fromTile(x: vec4<f32>) -> vec4<f32> { return x; }
#endif
#if SUBGROUPS
#else
override RED_VEC4S: u32;  // BQ · BK = 32 queries × 4 lanes × BK/4 key groups
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [query, lane, key group] partial dots of 4 keys
#endif

/// One lane's head-dim columns of one query: column c holds vec4 r + 4c of the head (c < ND are live).
struct Cols {
  c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>,
  c4: vec4<f32>, c5: vec4<f32>, c6: vec4<f32>, c7: vec4<f32>,
}

var<private> laneR: u32;  // the lane's index in its quad
var<private> q0: Cols;    // the quad's first query, pre-scaled by 1/√d (0 past the head dim or the tile)
var<private> q1: Cols;    // the quad's second query
var<private> o0: Cols;    // unnormalised outputs of q0
var<private> o1: Cols;    // unnormalised outputs of q1
var<private> m: vec2<f32>;  // running score max of (q0, q1)
var<private> l: vec2<f32>;  // running softmax denominators of (q0, q1)

/// The tile slot of the lane's column c within a staged row; clamped into the row past the head dim, where
/// q is 0 (so the slot's value, finite or not, only meets columns that already hold it).
fn tileCol(c: u32) -> u32 { return min(laneR + 4u * c, HD / 4u - 1u); }

/// The lane's column c of the query row starting at vec4 `base`, scaled; 0 where it is past the head dim.
fn queryCol(base: u32, c: u32, live: bool) -> vec4<f32> {
  let col = laneR + 4u * c;
  if (live && c < ND && col < HD / 4u) { return qkv[base + col] * u.SCALE; }
  return vec4<f32>(0.0);
}

fn loadQuery(base: u32, live: bool) -> Cols {
  return Cols(queryCol(base, 0u, live), queryCol(base, 1u, live), queryCol(base, 2u, live),
              queryCol(base, 3u, live), queryCol(base, 4u, live), queryCol(base, 5u, live),
              queryCol(base, 6u, live), queryCol(base, 7u, live));
}

/// The lane's partial dots of (q0, q1) with the staged key at tile row offset `row`.
fn keyDots(row: u32) -> vec2<f32> {
  var k = fromTile(ks[row + tileCol(0u)]);
  var d = vec2<f32>(dot(q0.c0, k), dot(q1.c0, k));
  if (ND > 1u) { k = fromTile(ks[row + tileCol(1u)]); d += vec2<f32>(dot(q0.c1, k), dot(q1.c1, k)); }
  if (ND > 2u) { k = fromTile(ks[row + tileCol(2u)]); d += vec2<f32>(dot(q0.c2, k), dot(q1.c2, k)); }
  if (ND > 3u) { k = fromTile(ks[row + tileCol(3u)]); d += vec2<f32>(dot(q0.c3, k), dot(q1.c3, k)); }
  if (ND > 4u) { k = fromTile(ks[row + tileCol(4u)]); d += vec2<f32>(dot(q0.c4, k), dot(q1.c4, k)); }
  if (ND > 5u) { k = fromTile(ks[row + tileCol(5u)]); d += vec2<f32>(dot(q0.c5, k), dot(q1.c5, k)); }
  if (ND > 6u) { k = fromTile(ks[row + tileCol(6u)]); d += vec2<f32>(dot(q0.c6, k), dot(q1.c6, k)); }
  if (ND > 7u) { k = fromTile(ks[row + tileCol(7u)]); d += vec2<f32>(dot(q0.c7, k), dot(q1.c7, k)); }
  return d;
}

/// The lane's partial scores of keys j0 .. j0+3 of the staged tile: column 0 for q0, column 1 for q1.
fn partialScores(j0: u32) -> mat2x4<f32> {
  let row = j0 * (HD / 4u);
  let a = keyDots(row);
  let b = keyDots(row + HD / 4u);
  let c = keyDots(row + 2u * (HD / 4u));
  let d = keyDots(row + 3u * (HD / 4u));
  return mat2x4<f32>(vec4<f32>(a.x, b.x, c.x, d.x), vec4<f32>(a.y, b.y, c.y, d.y));
}

/// o += p · V for the staged value at tile row offset `row` (p.x for q0, p.y for q1).
fn accumulateValue(row: u32, p: vec2<f32>) {
  let p0 = vec4<f32>(p.x);
  let p1 = vec4<f32>(p.y);
  var v = fromTile(vs[row + tileCol(0u)]);
  o0.c0 = fma(p0, v, o0.c0); o1.c0 = fma(p1, v, o1.c0);
  if (ND > 1u) { v = fromTile(vs[row + tileCol(1u)]); o0.c1 = fma(p0, v, o0.c1); o1.c1 = fma(p1, v, o1.c1); }
  if (ND > 2u) { v = fromTile(vs[row + tileCol(2u)]); o0.c2 = fma(p0, v, o0.c2); o1.c2 = fma(p1, v, o1.c2); }
  if (ND > 3u) { v = fromTile(vs[row + tileCol(3u)]); o0.c3 = fma(p0, v, o0.c3); o1.c3 = fma(p1, v, o1.c3); }
  if (ND > 4u) { v = fromTile(vs[row + tileCol(4u)]); o0.c4 = fma(p0, v, o0.c4); o1.c4 = fma(p1, v, o1.c4); }
  if (ND > 5u) { v = fromTile(vs[row + tileCol(5u)]); o0.c5 = fma(p0, v, o0.c5); o1.c5 = fma(p1, v, o1.c5); }
  if (ND > 6u) { v = fromTile(vs[row + tileCol(6u)]); o0.c6 = fma(p0, v, o0.c6); o1.c6 = fma(p1, v, o1.c6); }
  if (ND > 7u) { v = fromTile(vs[row + tileCol(7u)]); o0.c7 = fma(p0, v, o0.c7); o1.c7 = fma(p1, v, o1.c7); }
}

fn rescaleOutputs(corr: vec2<f32>) {
  o0.c0 *= corr.x; o1.c0 *= corr.y;
  if (ND > 1u) { o0.c1 *= corr.x; o1.c1 *= corr.y; }
  if (ND > 2u) { o0.c2 *= corr.x; o1.c2 *= corr.y; }
  if (ND > 3u) { o0.c3 *= corr.x; o1.c3 *= corr.y; }
  if (ND > 4u) { o0.c4 *= corr.x; o1.c4 *= corr.y; }
  if (ND > 5u) { o0.c5 *= corr.x; o1.c5 *= corr.y; }
  if (ND > 6u) { o0.c6 *= corr.x; o1.c6 *= corr.y; }
  if (ND > 7u) { o0.c7 *= corr.x; o1.c7 *= corr.y; }
}

fn max4(x: vec4<f32>) -> f32 { return max(max(x.x, x.y), max(x.z, x.w)); }
fn sum4(x: vec4<f32>) -> f32 { return (x.x + x.y) + (x.z + x.w); }

/// Online softmax over keys j0 .. j0+3 (full scores s; keys ≥ nk are past the image and count for
/// nothing): rescale by exp(m_old − m_new), then accumulate p · v.
fn softmaxStep(s: mat2x4<f32>, j0: u32, nk: u32) {
  let keep = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(nk);
  let s0 = select(vec4<f32>(-3.0e38), s[0], keep);
  let s1 = select(vec4<f32>(-3.0e38), s[1], keep);
  let mNew = max(m, vec2<f32>(max4(s0), max4(s1)));
  let corr = exp(m - mNew);
  let p0 = select(vec4<f32>(0.0), exp(s0 - mNew.x), keep);
  let p1 = select(vec4<f32>(0.0), exp(s1 - mNew.y), keep);
  l = l * corr + vec2<f32>(sum4(p0), sum4(p1));
  m = mNew;
  rescaleOutputs(corr);
  let row = j0 * (HD / 4u);
  accumulateValue(row, vec2<f32>(p0.x, p1.x));
  accumulateValue(row + HD / 4u, vec2<f32>(p0.y, p1.y));
  accumulateValue(row + 2u * (HD / 4u), vec2<f32>(p0.z, p1.z));
  accumulateValue(row + 3u * (HD / 4u), vec2<f32>(p0.w, p1.w));
}

/// The lane's column c of one output row starting at vec4 `base` (nothing past the head dim).
fn storeCol(base: u32, c: u32, x: vec4<f32>) {
  let col = laneR + 4u * c;
  if (c < ND && col < HD / 4u) { out[base + col] = x; }
}

fn storeOutput(base: u32, o: Cols, inv: f32) {
  storeCol(base, 0u, o.c0 * inv); storeCol(base, 1u, o.c1 * inv);
  storeCol(base, 2u, o.c2 * inv); storeCol(base, 3u, o.c3 * inv);
  storeCol(base, 4u, o.c4 * inv); storeCol(base, 5u, o.c5 * inv);
  storeCol(base, 6u, o.c6 * inv); storeCol(base, 7u, o.c7 * inv);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let tile = tiles[wid.x];
  let head = wid.y;
  let HD4 = HD / 4u;
  let dModel4 = u.HEADS * HD4;
  let width4 = 3u * dModel4;
  let quad = lane / 4u;
  laneR = lane % 4u;
  let qi0 = tile.x + quad * 2u;
  q0 = loadQuery(qi0 * width4 + head * HD4, qi0 < tile.y);
  q1 = loadQuery((qi0 + 1u) * width4 + head * HD4, qi0 + 1u < tile.y);
  m = vec2<f32>(-3.0e38);

  for (var k0 = tile.z; k0 < tile.w; k0 += BK) {
    let nk = min(BK, tile.w - k0);
    // Stage the tile; rows past the image's end are zeros (their scores are masked).
    for (var idx = lane; idx < BK * HD4; idx += WG) {
      let j = idx / HD4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (j < nk) {
        let row = (k0 + j) * width4 + head * HD4 + idx % HD4;
        kv = qkv[row + dModel4];
        vv = qkv[row + 2u * dModel4];
      }
      ks[idx] = toTile(kv);
      vs[idx] = toTile(vv);
    }
    workgroupBarrier();
#if SUBGROUPS
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      let part = partialScores(j0);
      var s0 = part[0] + subgroupShuffleXor(part[0], 1u);
      var s1 = part[1] + subgroupShuffleXor(part[1], 1u);
      s0 += subgroupShuffleXor(s0, 2u);
      s1 += subgroupShuffleXor(s1, 2u);
      softmaxStep(mat2x4<f32>(s0, s1), j0, nk);
    }
#else
    // Partials of every key group to workgroup memory ([query][lane][group]), then the quad's sums.
    let groups = BK / 4u;
    let slot0 = (quad * 8u + laneR) * groups;  // query 2·quad, this lane
    for (var g = 0u; g < groups; g++) {
      let part = partialScores(4u * g);
      red[slot0 + g] = part[0];
      red[slot0 + 4u * groups + g] = part[1];
    }
    workgroupBarrier();
    let quad0 = quad * 8u * groups;  // query 2·quad, lane 0
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      let g = quad0 + j0 / 4u;
      let s0 = (red[g] + red[g + groups]) + (red[g + 2u * groups] + red[g + 3u * groups]);
      let h = g + 4u * groups;
      let s1 = (red[h] + red[h + groups]) + (red[h + 2u * groups] + red[h + 3u * groups]);
      softmaxStep(mat2x4<f32>(s0, s1), j0, nk);
    }
#endif
    workgroupBarrier();
  }

  if (qi0 < tile.y) { storeOutput(qi0 * dModel4 + head * HD4, o0, 1.0 / l.x); }
  if (qi0 + 1u < tile.y) { storeOutput((qi0 + 1u) * dModel4 + head * HD4, o1, 1.0 / l.y); }
}
