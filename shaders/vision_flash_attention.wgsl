// MoonViT attention, FlashAttention-2 style (spec §7.4–7.5): block-diagonal per image over a packed qkv
// [L, 3·H·d] → [L, H·d], softmax scale 1/√d, no mask, no padding and no L×L score matrix (work Σ nᵢ² per head).
//
// Dispatch (tiles, H): a workgroup owns one tile of ≤ BQ = 16·QR queries of ONE image (the tile table holds
// [qStart, qEnd, kStart, kEnd]) and one head, and walks only that image's keys in tiles of BK, staged in
// workgroup memory (f32, f16, or f16 packed two per u32 where the adapter lacks shader-f16).
// Lanes: 16 quads × 4. A quad owns QR = 4 queries (q0 … q3), or 8 with QR8 (q4 … q7 too: CPU adapters);
// lane r of a quad owns the head-dim columns (in vec4s) r, r+4, …, r+28 of those queries' q and o, so each
// staged K or V vec4 a lane reads serves QR queries (4·QR FMAs per vec4 read: reads from workgroup memory,
// per-lane gathers on a CPU adapter, bound this kernel there; QR8 halves them per query but needs twice
// the registers, too many for a GPU at d = 128). Keys go 4 at a time: the lane's partial dots are a
// mat4x4 per 4 queries, column t = key t, row a = query a; a score is the sum of the quad's four partials,
// by subgroupShuffleXor over 1 and 2 (WebGPU subgroups have ≥ 4 lanes; 1-D workgroups fill them in local
// index order) or, without subgroups, a pass through workgroup memory per staged tile. Every lane of a quad then holds the same scores and
// runs the online softmax itself (running max m and sum l per query as vec4s, o rescaled per 4 keys).
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
#if QR8
const QR: u32 = 8u;       // queries per quad
#else
const QR: u32 = 4u;
#endif

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
override RED_VEC4S: u32;  // 64 lanes · BK · QR/4
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [QR/4, quad, lane, key] partial dots of 4 queries

/// The four lanes' partials at red[g], red[g + BK], … : the quad's full scores of one key (4 queries).
fn quadSum(g: u32) -> vec4<f32> { return (red[g] + red[g + BK]) + (red[g + 2u * BK] + red[g + 3u * BK]); }
#endif

/// One lane's head-dim columns of one row: column c holds vec4 r + 4c of the head (c < ND are live).
struct Cols {
  c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>,
  c4: vec4<f32>, c5: vec4<f32>, c6: vec4<f32>, c7: vec4<f32>,
}

var<private> laneR: u32;  // the lane's index in its quad
var<private> q0: Cols;    // the quad's queries, pre-scaled by 1/√d (0 past the head dim or the tile)
var<private> q1: Cols;
var<private> q2: Cols;
var<private> q3: Cols;
var<private> o0: Cols;    // their unnormalised outputs
var<private> o1: Cols;
var<private> o2: Cols;
var<private> o3: Cols;
var<private> m: vec4<f32>;  // running score max of (q0 … q3)
var<private> l: vec4<f32>;  // running softmax denominators of (q0 … q3)
#if QR8
var<private> q4: Cols;
var<private> q5: Cols;
var<private> q6: Cols;
var<private> q7: Cols;
var<private> o4: Cols;
var<private> o5: Cols;
var<private> o6: Cols;
var<private> o7: Cols;
var<private> m2: vec4<f32>;  // of (q4 … q7)
var<private> l2: vec4<f32>;
#endif

/// The lane's column c of the row starting at vec4 `base` of `qkv`, scaled; 0 past the head dim.
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

/// The tile slot of the lane's column c within a staged row; clamped into the row past the head dim, where
/// q is 0 (so the slot's value, finite or not, only meets columns that already hold it).
fn tileCol(c: u32) -> u32 { return min(laneR + 4u * c, HD / 4u - 1u); }

/// The lane's live columns of the staged key at tile row offset `row` (dead ones 0, folded away).
fn keyCols(row: u32) -> Cols {
  var k: Cols;
  k.c0 = fromTile(ks[row + tileCol(0u)]);
  if (ND > 1u) { k.c1 = fromTile(ks[row + tileCol(1u)]); }
  if (ND > 2u) { k.c2 = fromTile(ks[row + tileCol(2u)]); }
  if (ND > 3u) { k.c3 = fromTile(ks[row + tileCol(3u)]); }
  if (ND > 4u) { k.c4 = fromTile(ks[row + tileCol(4u)]); }
  if (ND > 5u) { k.c5 = fromTile(ks[row + tileCol(5u)]); }
  if (ND > 6u) { k.c6 = fromTile(ks[row + tileCol(6u)]); }
  if (ND > 7u) { k.c7 = fromTile(ks[row + tileCol(7u)]); }
  return k;
}

/// The lane's live columns of the staged value at tile row offset `row`.
fn valueCols(row: u32) -> Cols {
  var v: Cols;
  v.c0 = fromTile(vs[row + tileCol(0u)]);
  if (ND > 1u) { v.c1 = fromTile(vs[row + tileCol(1u)]); }
  if (ND > 2u) { v.c2 = fromTile(vs[row + tileCol(2u)]); }
  if (ND > 3u) { v.c3 = fromTile(vs[row + tileCol(3u)]); }
  if (ND > 4u) { v.c4 = fromTile(vs[row + tileCol(4u)]); }
  if (ND > 5u) { v.c5 = fromTile(vs[row + tileCol(5u)]); }
  if (ND > 6u) { v.c6 = fromTile(vs[row + tileCol(6u)]); }
  if (ND > 7u) { v.c7 = fromTile(vs[row + tileCol(7u)]); }
  return v;
}

/// The lane's partial dot q · k over its live columns.
fn dotCols(q: Cols, k: Cols) -> f32 {
  var s = dot(q.c0, k.c0);
  if (ND > 1u) { s += dot(q.c1, k.c1); }
  if (ND > 2u) { s += dot(q.c2, k.c2); }
  if (ND > 3u) { s += dot(q.c3, k.c3); }
  if (ND > 4u) { s += dot(q.c4, k.c4); }
  if (ND > 5u) { s += dot(q.c5, k.c5); }
  if (ND > 6u) { s += dot(q.c6, k.c6); }
  if (ND > 7u) { s += dot(q.c7, k.c7); }
  return s;
}

/// o + p · v (dead columns are never stored, so the compiler drops them).
fn fmaCols(p: f32, v: Cols, o: Cols) -> Cols {
  let s = vec4<f32>(p);
  return Cols(fma(s, v.c0, o.c0), fma(s, v.c1, o.c1), fma(s, v.c2, o.c2), fma(s, v.c3, o.c3),
              fma(s, v.c4, o.c4), fma(s, v.c5, o.c5), fma(s, v.c6, o.c6), fma(s, v.c7, o.c7));
}

fn scaled(o: Cols, f: f32) -> Cols {
  let s = vec4<f32>(f);
  return Cols(o.c0 * s, o.c1 * s, o.c2 * s, o.c3 * s, o.c4 * s, o.c5 * s, o.c6 * s, o.c7 * s);
}

/// The lane's partial scores of one staged key (tile row offset `row`) for (q0 … q3) and, with QR8, (q4 … q7).
struct KeyScores {
  lo: vec4<f32>,
  hi: vec4<f32>,
}

fn keyScores(row: u32) -> KeyScores {
  let k = keyCols(row);
  var s: KeyScores;
  s.lo = vec4<f32>(dotCols(q0, k), dotCols(q1, k), dotCols(q2, k), dotCols(q3, k));
#if QR8
  s.hi = vec4<f32>(dotCols(q4, k), dotCols(q5, k), dotCols(q6, k), dotCols(q7, k));
#endif
  return s;
}

/// Scores of keys j0 .. j0+3, column t = key j0 + t: rows (q0 … q3) in lo, (q4 … q7) in hi (QR8).
struct Scores {
  lo: mat4x4<f32>,
  hi: mat4x4<f32>,
}

fn partialScores(j0: u32) -> Scores {
  let row = j0 * (HD / 4u);
  let a = keyScores(row);
  let b = keyScores(row + HD / 4u);
  let c = keyScores(row + 2u * (HD / 4u));
  let d = keyScores(row + 3u * (HD / 4u));
  return Scores(mat4x4<f32>(a.lo, b.lo, c.lo, d.lo), mat4x4<f32>(a.hi, b.hi, c.hi, d.hi));
}

/// One online-softmax step of 4 queries over 4 keys (keys not kept are past the image and count for
/// nothing): the new running max, the factor exp(m_old − m_new) and p (column t = key t).
struct Step {
  m: vec4<f32>,
  corr: vec4<f32>,
  p: mat4x4<f32>,
}

fn onlineStep(s: mat4x4<f32>, keep: vec4<bool>, mOld: vec4<f32>) -> Step {
  let mNew = max(max(mOld, select(mOld, s[0], keep.x)),
                 max(select(mOld, s[1], keep.y), max(select(mOld, s[2], keep.z), select(mOld, s[3], keep.w))));
  let z = vec4<f32>(0.0);
  let p = mat4x4<f32>(select(z, exp(s[0] - mNew), keep.x), select(z, exp(s[1] - mNew), keep.y),
                      select(z, exp(s[2] - mNew), keep.z), select(z, exp(s[3] - mNew), keep.w));
  return Step(mNew, exp(mOld - mNew), p);
}

/// o += p · v for one staged value (tile row offset `row`): p[a] for query a of (q0 … q3), hi for (q4 … q7).
fn accumulateValue(row: u32, lo: vec4<f32>, hi: vec4<f32>) {
  let v = valueCols(row);
  o0 = fmaCols(lo.x, v, o0);
  o1 = fmaCols(lo.y, v, o1);
  o2 = fmaCols(lo.z, v, o2);
  o3 = fmaCols(lo.w, v, o3);
#if QR8
  o4 = fmaCols(hi.x, v, o4);
  o5 = fmaCols(hi.y, v, o5);
  o6 = fmaCols(hi.z, v, o6);
  o7 = fmaCols(hi.w, v, o7);
#endif
}

/// Online softmax over keys j0 .. j0+3 (full scores s; keys ≥ nk are past the image): rescale, then p · v.
fn softmaxStep(s: Scores, j0: u32, nk: u32) {
  let keep = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(nk);
  let a = onlineStep(s.lo, keep, m);
  m = a.m;
  l = l * a.corr + ((a.p[0] + a.p[1]) + (a.p[2] + a.p[3]));
  o0 = scaled(o0, a.corr.x);
  o1 = scaled(o1, a.corr.y);
  o2 = scaled(o2, a.corr.z);
  o3 = scaled(o3, a.corr.w);
  var b: Step;  // (q4 … q7)'s step with QR8; zeros, unused, without
#if QR8
  b = onlineStep(s.hi, keep, m2);
  m2 = b.m;
  l2 = l2 * b.corr + ((b.p[0] + b.p[1]) + (b.p[2] + b.p[3]));
  o4 = scaled(o4, b.corr.x);
  o5 = scaled(o5, b.corr.y);
  o6 = scaled(o6, b.corr.z);
  o7 = scaled(o7, b.corr.w);
#endif
  let row = j0 * (HD / 4u);
  accumulateValue(row, a.p[0], b.p[0]);
  accumulateValue(row + HD / 4u, a.p[1], b.p[1]);
  accumulateValue(row + 2u * (HD / 4u), a.p[2], b.p[2]);
  accumulateValue(row + 3u * (HD / 4u), a.p[3], b.p[3]);
}

/// The 4 lanes' sum of a partial-score matrix (the quad is one subgroup's lanes 4i .. 4i+3).
#if SUBGROUPS
fn quadReduce(x: mat4x4<f32>) -> mat4x4<f32> {
  let y = x + mat4x4<f32>(subgroupShuffleXor(x[0], 1u), subgroupShuffleXor(x[1], 1u),
                          subgroupShuffleXor(x[2], 1u), subgroupShuffleXor(x[3], 1u));
  return y + mat4x4<f32>(subgroupShuffleXor(y[0], 2u), subgroupShuffleXor(y[1], 2u),
                         subgroupShuffleXor(y[2], 2u), subgroupShuffleXor(y[3], 2u));
}
#endif

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
  let qi = tile.x + quad * QR;  // the quad's first query
  let qBase = qi * width4 + head * HD4;
  q0 = loadQuery(qBase, qi < tile.y);
  q1 = loadQuery(qBase + width4, qi + 1u < tile.y);
  q2 = loadQuery(qBase + 2u * width4, qi + 2u < tile.y);
  q3 = loadQuery(qBase + 3u * width4, qi + 3u < tile.y);
  m = vec4<f32>(-3.0e38);
#if QR8
  q4 = loadQuery(qBase + 4u * width4, qi + 4u < tile.y);
  q5 = loadQuery(qBase + 5u * width4, qi + 5u < tile.y);
  q6 = loadQuery(qBase + 6u * width4, qi + 6u < tile.y);
  q7 = loadQuery(qBase + 7u * width4, qi + 7u < tile.y);
  m2 = vec4<f32>(-3.0e38);
#endif

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
      var s = partialScores(j0);
      s.lo = quadReduce(s.lo);
#if QR8
      s.hi = quadReduce(s.hi);
#endif
      softmaxStep(s, j0, nk);
    }
#else
    // Partials of every key to workgroup memory ([QR/4][quad][lane][key], a vec4 over 4 queries), then each
    // lane sums its quad's four.
    let mine = (quad * 4u + laneR) * BK;
    let hiOff = 64u * BK;
    for (var j0 = 0u; j0 < BK; j0 += 4u) {
      let part = partialScores(j0);
      red[mine + j0] = part.lo[0];
      red[mine + j0 + 1u] = part.lo[1];
      red[mine + j0 + 2u] = part.lo[2];
      red[mine + j0 + 3u] = part.lo[3];
#if QR8
      red[hiOff + mine + j0] = part.hi[0];
      red[hiOff + mine + j0 + 1u] = part.hi[1];
      red[hiOff + mine + j0 + 2u] = part.hi[2];
      red[hiOff + mine + j0 + 3u] = part.hi[3];
#endif
    }
    workgroupBarrier();
    let quadBase = quad * 4u * BK;
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      let g = quadBase + j0;
      var s: Scores;
      s.lo = mat4x4<f32>(quadSum(g), quadSum(g + 1u), quadSum(g + 2u), quadSum(g + 3u));
#if QR8
      let h = hiOff + g;
      s.hi = mat4x4<f32>(quadSum(h), quadSum(h + 1u), quadSum(h + 2u), quadSum(h + 3u));
#endif
      softmaxStep(s, j0, nk);
    }
#endif
    workgroupBarrier();
  }

  let oBase = qi * dModel4 + head * HD4;
  if (qi < tile.y) { storeOutput(oBase, o0, 1.0 / l.x); }
  if (qi + 1u < tile.y) { storeOutput(oBase + dModel4, o1, 1.0 / l.y); }
  if (qi + 2u < tile.y) { storeOutput(oBase + 2u * dModel4, o2, 1.0 / l.z); }
  if (qi + 3u < tile.y) { storeOutput(oBase + 3u * dModel4, o3, 1.0 / l.w); }
#if QR8
  if (qi + 4u < tile.y) { storeOutput(oBase + 4u * dModel4, o4, 1.0 / l2.x); }
  if (qi + 5u < tile.y) { storeOutput(oBase + 5u * dModel4, o5, 1.0 / l2.y); }
  if (qi + 6u < tile.y) { storeOutput(oBase + 6u * dModel4, o6, 1.0 / l2.z); }
  if (qi + 7u < tile.y) { storeOutput(oBase + 7u * dModel4, o7, 1.0 / l2.w); }
#endif
}
