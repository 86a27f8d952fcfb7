// MoonViT attention, FlashAttention-2 style (spec §7.4–7.5): block-diagonal per image over a packed qkv
// [L, 3·H·d] → [L, H·d], softmax scale 1/√d, no mask, no padding and no L×L score matrix (work Σ nᵢ² per head).
//
// Dispatch (tiles, H): a workgroup owns one tile of ≤ BQ = 64 queries of ONE image (the tile table holds
// [qStart, qEnd, kStart, kEnd]) and one head, and walks only that image's keys in tiles of BK, staged in
// workgroup memory (f32, f16, or f16 packed two per u32 where the adapter lacks shader-f16).
// Lanes: 16 quads × 4. A quad owns 4 queries (q0 … q3 below); lane r of a quad owns the head-dim columns
// (in vec4s) r, r+4, …, r+28 of those queries' q and o, so each staged K or V vec4 a lane reads serves 4
// queries (16 FMAs per vec4 read: reads from workgroup memory, per-lane gathers on a CPU adapter, are what
// bounds this kernel there). Keys go 4 at a time: the lane's partial dots are a mat4x4, column t = key t,
// row a = query a; a score is the sum of the quad's four partials, by subgroupShuffleXor over 1 and 2
// (WebGPU subgroups have ≥ 4 lanes; 1-D workgroups fill them in local index order) or, without subgroups,
// a pass through workgroup memory per staged tile. Every lane of a quad then holds the same scores and
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
override RED_VEC4S: u32;  // 64 lanes · BK
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [quad, lane, key] partial dots of the quad's 4 queries

/// The four lanes' partials at red[g], red[g + BK], … : the quad's full scores of one key.
fn quadSum(g: u32) -> vec4<f32> { return (red[g] + red[g + BK]) + (red[g + 2u * BK] + red[g + 3u * BK]); }
#endif

/// One lane's head-dim columns of one query: column c holds vec4 r + 4c of the head (c < ND are live).
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

/// k · (q0 … q3) for one vec4 column of a key.
fn dots4(k: vec4<f32>, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(a, k), dot(b, k), dot(c, k), dot(d, k));
}

/// The lane's partial dots of (q0 … q3) with the staged key at tile row offset `row`.
fn keyDots(row: u32) -> vec4<f32> {
  var s = dots4(fromTile(ks[row + tileCol(0u)]), q0.c0, q1.c0, q2.c0, q3.c0);
  if (ND > 1u) { s += dots4(fromTile(ks[row + tileCol(1u)]), q0.c1, q1.c1, q2.c1, q3.c1); }
  if (ND > 2u) { s += dots4(fromTile(ks[row + tileCol(2u)]), q0.c2, q1.c2, q2.c2, q3.c2); }
  if (ND > 3u) { s += dots4(fromTile(ks[row + tileCol(3u)]), q0.c3, q1.c3, q2.c3, q3.c3); }
  if (ND > 4u) { s += dots4(fromTile(ks[row + tileCol(4u)]), q0.c4, q1.c4, q2.c4, q3.c4); }
  if (ND > 5u) { s += dots4(fromTile(ks[row + tileCol(5u)]), q0.c5, q1.c5, q2.c5, q3.c5); }
  if (ND > 6u) { s += dots4(fromTile(ks[row + tileCol(6u)]), q0.c6, q1.c6, q2.c6, q3.c6); }
  if (ND > 7u) { s += dots4(fromTile(ks[row + tileCol(7u)]), q0.c7, q1.c7, q2.c7, q3.c7); }
  return s;
}

/// The lane's partial scores of keys j0 .. j0+3 of the staged tile: column t = key j0 + t, row a = query a.
fn partialScores(j0: u32) -> mat4x4<f32> {
  let row = j0 * (HD / 4u);
  return mat4x4<f32>(keyDots(row), keyDots(row + HD / 4u), keyDots(row + 2u * (HD / 4u)),
                     keyDots(row + 3u * (HD / 4u)));
}

/// o += p · V for the staged value at tile row offset `row` (p[a] for query a).
fn accumulateValue(row: u32, p: vec4<f32>) {
  let pa = vec4<f32>(p.x);
  let pb = vec4<f32>(p.y);
  let pc = vec4<f32>(p.z);
  let pd = vec4<f32>(p.w);
  var v = fromTile(vs[row + tileCol(0u)]);
  o0.c0 = fma(pa, v, o0.c0); o1.c0 = fma(pb, v, o1.c0); o2.c0 = fma(pc, v, o2.c0); o3.c0 = fma(pd, v, o3.c0);
  if (ND > 1u) {
    v = fromTile(vs[row + tileCol(1u)]);
    o0.c1 = fma(pa, v, o0.c1); o1.c1 = fma(pb, v, o1.c1); o2.c1 = fma(pc, v, o2.c1); o3.c1 = fma(pd, v, o3.c1);
  }
  if (ND > 2u) {
    v = fromTile(vs[row + tileCol(2u)]);
    o0.c2 = fma(pa, v, o0.c2); o1.c2 = fma(pb, v, o1.c2); o2.c2 = fma(pc, v, o2.c2); o3.c2 = fma(pd, v, o3.c2);
  }
  if (ND > 3u) {
    v = fromTile(vs[row + tileCol(3u)]);
    o0.c3 = fma(pa, v, o0.c3); o1.c3 = fma(pb, v, o1.c3); o2.c3 = fma(pc, v, o2.c3); o3.c3 = fma(pd, v, o3.c3);
  }
  if (ND > 4u) {
    v = fromTile(vs[row + tileCol(4u)]);
    o0.c4 = fma(pa, v, o0.c4); o1.c4 = fma(pb, v, o1.c4); o2.c4 = fma(pc, v, o2.c4); o3.c4 = fma(pd, v, o3.c4);
  }
  if (ND > 5u) {
    v = fromTile(vs[row + tileCol(5u)]);
    o0.c5 = fma(pa, v, o0.c5); o1.c5 = fma(pb, v, o1.c5); o2.c5 = fma(pc, v, o2.c5); o3.c5 = fma(pd, v, o3.c5);
  }
  if (ND > 6u) {
    v = fromTile(vs[row + tileCol(6u)]);
    o0.c6 = fma(pa, v, o0.c6); o1.c6 = fma(pb, v, o1.c6); o2.c6 = fma(pc, v, o2.c6); o3.c6 = fma(pd, v, o3.c6);
  }
  if (ND > 7u) {
    v = fromTile(vs[row + tileCol(7u)]);
    o0.c7 = fma(pa, v, o0.c7); o1.c7 = fma(pb, v, o1.c7); o2.c7 = fma(pc, v, o2.c7); o3.c7 = fma(pd, v, o3.c7);
  }
}

fn scaled(o: Cols, f: f32) -> Cols {
  let s = vec4<f32>(f);
  return Cols(o.c0 * s, o.c1 * s, o.c2 * s, o.c3 * s, o.c4 * s, o.c5 * s, o.c6 * s, o.c7 * s);
}

/// Online softmax over keys j0 .. j0+3 (full scores s, column t = key j0 + t; keys ≥ nk are past the image
/// and count for nothing): rescale by exp(m_old − m_new), then accumulate p · v.
fn softmaxStep(s: mat4x4<f32>, j0: u32, nk: u32) {
  let keep = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(nk);
  let mNew = max(max(m, select(m, s[0], keep.x)),
                 max(select(m, s[1], keep.y), max(select(m, s[2], keep.z), select(m, s[3], keep.w))));
  let corr = exp(m - mNew);
  let p0 = select(vec4<f32>(0.0), exp(s[0] - mNew), keep.x);
  let p1 = select(vec4<f32>(0.0), exp(s[1] - mNew), keep.y);
  let p2 = select(vec4<f32>(0.0), exp(s[2] - mNew), keep.z);
  let p3 = select(vec4<f32>(0.0), exp(s[3] - mNew), keep.w);
  l = l * corr + ((p0 + p1) + (p2 + p3));
  m = mNew;
  // Dead columns (c ≥ ND) are never stored, so the compiler drops their multiplies here too.
  o0 = scaled(o0, corr.x);
  o1 = scaled(o1, corr.y);
  o2 = scaled(o2, corr.z);
  o3 = scaled(o3, corr.w);
  let row = j0 * (HD / 4u);
  accumulateValue(row, p0);
  accumulateValue(row + HD / 4u, p1);
  accumulateValue(row + 2u * (HD / 4u), p2);
  accumulateValue(row + 3u * (HD / 4u), p3);
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
  let qi = tile.x + quad * 4u;  // the quad's first query
  let qBase = qi * width4 + head * HD4;
  q0 = loadQuery(qBase, qi < tile.y);
  q1 = loadQuery(qBase + width4, qi + 1u < tile.y);
  q2 = loadQuery(qBase + 2u * width4, qi + 2u < tile.y);
  q3 = loadQuery(qBase + 3u * width4, qi + 3u < tile.y);
  m = vec4<f32>(-3.0e38);

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
      s += mat4x4<f32>(subgroupShuffleXor(s[0], 1u), subgroupShuffleXor(s[1], 1u),
                       subgroupShuffleXor(s[2], 1u), subgroupShuffleXor(s[3], 1u));
      s += mat4x4<f32>(subgroupShuffleXor(s[0], 2u), subgroupShuffleXor(s[1], 2u),
                       subgroupShuffleXor(s[2], 2u), subgroupShuffleXor(s[3], 2u));
      softmaxStep(s, j0, nk);
    }
#else
    // Partials of every key to workgroup memory ([quad][lane][key], a vec4 over the quad's queries), then
    // each lane sums its quad's four.
    let mine = (quad * 4u + laneR) * BK;
    for (var j0 = 0u; j0 < BK; j0 += 4u) {
      let part = partialScores(j0);
      red[mine + j0] = part[0];
      red[mine + j0 + 1u] = part[1];
      red[mine + j0 + 2u] = part[2];
      red[mine + j0 + 3u] = part[3];
    }
    workgroupBarrier();
    let quadBase = quad * 4u * BK;
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      let g = quadBase + j0;
      softmaxStep(mat4x4<f32>(quadSum(g), quadSum(g + 1u), quadSum(g + 2u), quadSum(g + 3u)), j0, nk);
    }
#endif
    workgroupBarrier();
  }

  let oBase = qi * dModel4 + head * HD4;
  if (qi < tile.y) { storeOutput(oBase, o0, 1.0 / l.x); }
  if (qi + 1u < tile.y) { storeOutput(oBase + dModel4, o1, 1.0 / l.y); }
  if (qi + 2u < tile.y) { storeOutput(oBase + 2u * dModel4, o2, 1.0 / l.z); }
  if (qi + 3u < tile.y) { storeOutput(oBase + 3u * dModel4, o3, 1.0 / l.w); }
}
