// MoonViT attention, FlashAttention-2 style (spec §7.4–7.5): block-diagonal per image over a packed qkv
// [L, 3·H·d] → [L, H·d], softmax scale 1/√d, no mask, no padding and no L×L score matrix (work Σ nᵢ² per head).
//
// Dispatch (tiles, H): a workgroup owns one tile of ≤ BQ = 16·QR queries of ONE image (the tile table holds
// [qStart, qEnd, kStart, kEnd]) and one head, and walks only that image's keys in tiles of BK, staged in
// workgroup memory (f32, f16, or f16 packed two per u32 where the adapter lacks shader-f16).
// Lanes: 16 quads × 4. A quad owns QR = 4, 8 or 16 queries (defines QR8, QR16) in groups A … D of 4;
// lane r of a quad owns the head-dim columns (in vec4s) r, r+4, …, r+28 of those queries' q and o, so each
// staged K or V vec4 a lane reads serves QR queries (4·QR FMAs per vec4 read). Reads from workgroup memory
// are per-lane gathers on a CPU adapter and bound this kernel there, so CPU adapters run QR 8 or 16; a GPU
// runs 4 (more would need too many registers at d = 128). Keys go 4 at a time: the lane's partial dots are
// a mat4x4 per group, column t = key t, row a = query a; a score is the sum of the quad's four partials,
// by subgroupShuffleXor over 1 and 2 (WebGPU subgroups have ≥ 4 lanes; 1-D workgroups fill them in local
// index order) or, without subgroups, a pass through workgroup memory per staged tile. Every lane of a
// quad then holds the same scores and runs the online softmax itself (running max m and sum l per group
// as vec4s, o rescaled per 4 keys).
// Register layout: every query row is a named struct (Group.r0 … r3 of Cols.c0 … c7, dead columns c ≥ ND
// folded away by the ND override), never a private array indexed by loop counters: a compiler that does
// not fully unroll (SwiftShader) keeps such arrays in memory, one scattered access per lane. Columns past
// the head dim (HD = 72: lanes 2, 3 own one vec4 fewer) hold q = 0 and read a clamped in-row tile slot, so
// the inner loops carry no per-lane branches.
#if SUBGROUPS
enable subgroups;
#endif
#if NATIVE_F16
enable f16;
#endif

override HD: u32;       // head dim, a multiple of 4, ≤ 128
override BK: u32;       // keys per staged tile, a multiple of 4, ≤ 32
override ND: u32;       // vec4 columns per lane: ceil(HD / 16), ≤ 8
override KV_VEC4S: u32; // 2 · BK · HD / 4: the staged K tile, then the V tile
const WG: u32 = 64u;
#if QR16
const QR: u32 = 16u;    // queries per quad: groups A … D
#else
#if QR8
const QR: u32 = 8u;     // groups A, B
#else
const QR: u32 = 4u;     // group A
#endif
#endif

@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;     // [L, 3·H·d/4]: q | k | v
@group(0) @binding(2) var<storage, read> tiles: array<vec4<u32>>;   // [tiles] (qStart, qEnd, kStart, kEnd)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // [L, H·d/4]

// kv: [2][BK, d/4], keys of the current tile, then its values (one array, one read helper).
#if KV_F16
#if NATIVE_F16
var<workgroup> kv: array<vec4<f16>, KV_VEC4S>;
fn toTile(x: vec4<f32>) -> vec4<f16> { return vec4<f16>(x); }
fn fromTile(x: vec4<f16>) -> vec4<f32> { return vec4<f32>(x); }
#else
var<workgroup> kv: array<vec2<u32>, KV_VEC4S>;  // halves packed two per word
fn toTile(x: vec4<f32>) -> vec2<u32> { return vec2<u32>(pack2x16float(x.xy), pack2x16float(x.zw)); }
fn fromTile(x: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(x.x), unpack2x16float(x.y)); }
#endif
#else
var<workgroup> kv: array<vec4<f32>, KV_VEC4S>;
fn toTile(x: vec4<f32>) -> vec4<f32> { return x; }
fn fromTile(x: vec4<f32>) -> vec4<f32> { return x; }
#endif
#if SUBGROUPS
#else
override RED_VEC4S: u32;  // 64 lanes · BK · QR/4
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [group, quad, lane, key] partial dots of 4 queries

/// The four lanes' partials at red[g], red[g + BK], … : the quad's full scores of one key (4 queries).
fn quadSum(g: u32) -> vec4<f32> { return (red[g] + red[g + BK]) + (red[g + 2u * BK] + red[g + 3u * BK]); }
fn quadScores(g: u32) -> mat4x4<f32> { return mat4x4<f32>(quadSum(g), quadSum(g + 1u), quadSum(g + 2u), quadSum(g + 3u)); }
fn putPartials(g: u32, x: mat4x4<f32>) { red[g] = x[0]; red[g + 1u] = x[1]; red[g + 2u] = x[2]; red[g + 3u] = x[3]; }
#endif

/// One lane's head-dim columns of one row: column c holds vec4 r + 4c of the head (c < ND are live).
struct Cols {
  c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>,
  c4: vec4<f32>, c5: vec4<f32>, c6: vec4<f32>, c7: vec4<f32>,
}
/// Four consecutive queries' rows (a group).
struct Group { r0: Cols, r1: Cols, r2: Cols, r3: Cols, }

var<private> laneR: u32;  // the lane's index in its quad
var<private> qA: Group;   // the quad's queries, pre-scaled by 1/√d (0 past the head dim or the tile)
var<private> oA: Group;   // their unnormalised outputs
var<private> mA: vec4<f32>;  // running score maxima
var<private> lA: vec4<f32>;  // running softmax denominators
#if QR8
var<private> qB: Group;
var<private> oB: Group;
var<private> mB: vec4<f32>;
var<private> lB: vec4<f32>;
#endif
#if QR16
var<private> qC: Group;
var<private> oC: Group;
var<private> mC: vec4<f32>;
var<private> lC: vec4<f32>;
var<private> qD: Group;
var<private> oD: Group;
var<private> mD: vec4<f32>;
var<private> lD: vec4<f32>;
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

/// Queries q … q+3 (rows `stride` vec4s apart from `base`); those ≥ end are 0.
fn loadGroup(base: u32, stride: u32, q: u32, end: u32) -> Group {
  return Group(loadQuery(base, q < end), loadQuery(base + stride, q + 1u < end),
               loadQuery(base + 2u * stride, q + 2u < end), loadQuery(base + 3u * stride, q + 3u < end));
}

/// The tile slot of the lane's column c within a staged row; clamped into the row past the head dim, where
/// q is 0 (so the slot's value, finite or not, only meets columns that already hold it).
fn tileCol(c: u32) -> u32 { return min(laneR + 4u * c, HD / 4u - 1u); }

/// The lane's live columns of the staged K or V row at `row` of kv (dead ones 0, folded away).
fn tileCols(row: u32) -> Cols {
  var k: Cols;
  k.c0 = fromTile(kv[row + tileCol(0u)]);
  if (ND > 1u) { k.c1 = fromTile(kv[row + tileCol(1u)]); }
  if (ND > 2u) { k.c2 = fromTile(kv[row + tileCol(2u)]); }
  if (ND > 3u) { k.c3 = fromTile(kv[row + tileCol(3u)]); }
  if (ND > 4u) { k.c4 = fromTile(kv[row + tileCol(4u)]); }
  if (ND > 5u) { k.c5 = fromTile(kv[row + tileCol(5u)]); }
  if (ND > 6u) { k.c6 = fromTile(kv[row + tileCol(6u)]); }
  if (ND > 7u) { k.c7 = fromTile(kv[row + tileCol(7u)]); }
  return k;
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

fn groupDots(q: Group, k: Cols) -> vec4<f32> {
  return vec4<f32>(dotCols(q.r0, k), dotCols(q.r1, k), dotCols(q.r2, k), dotCols(q.r3, k));
}

/// o + p · v (dead columns are never stored, so the compiler drops them).
fn fmaCols(p: f32, v: Cols, o: Cols) -> Cols {
  let s = vec4<f32>(p);
  return Cols(fma(s, v.c0, o.c0), fma(s, v.c1, o.c1), fma(s, v.c2, o.c2), fma(s, v.c3, o.c3),
              fma(s, v.c4, o.c4), fma(s, v.c5, o.c5), fma(s, v.c6, o.c6), fma(s, v.c7, o.c7));
}

/// o[a] + p[a] · v for the group's 4 queries.
fn fmaGroup(p: vec4<f32>, v: Cols, o: Group) -> Group {
  return Group(fmaCols(p.x, v, o.r0), fmaCols(p.y, v, o.r1), fmaCols(p.z, v, o.r2), fmaCols(p.w, v, o.r3));
}

fn scaled(o: Cols, f: f32) -> Cols {
  let s = vec4<f32>(f);
  return Cols(o.c0 * s, o.c1 * s, o.c2 * s, o.c3 * s, o.c4 * s, o.c5 * s, o.c6 * s, o.c7 * s);
}

fn scaledGroup(o: Group, f: vec4<f32>) -> Group {
  return Group(scaled(o.r0, f.x), scaled(o.r1, f.y), scaled(o.r2, f.z), scaled(o.r3, f.w));
}

/// The lane's partial scores of one staged key (kv row `row`), per group (groups not run stay 0).
struct KeyScores { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, }

fn keyScores(row: u32) -> KeyScores {
  let k = tileCols(row);
  var s: KeyScores;
  s.a = groupDots(qA, k);
#if QR8
  s.b = groupDots(qB, k);
#endif
#if QR16
  s.c = groupDots(qC, k);
  s.d = groupDots(qD, k);
#endif
  return s;
}

/// Scores of keys j0 .. j0+3 per group, column t = key j0 + t, row a = the group's query a.
struct Scores { a: mat4x4<f32>, b: mat4x4<f32>, c: mat4x4<f32>, d: mat4x4<f32>, }

fn partialScores(j0: u32) -> Scores {
  let row = j0 * (HD / 4u);
  let k0 = keyScores(row);
  let k1 = keyScores(row + HD / 4u);
  let k2 = keyScores(row + 2u * (HD / 4u));
  let k3 = keyScores(row + 3u * (HD / 4u));
  return Scores(mat4x4<f32>(k0.a, k1.a, k2.a, k3.a), mat4x4<f32>(k0.b, k1.b, k2.b, k3.b),
                mat4x4<f32>(k0.c, k1.c, k2.c, k3.c), mat4x4<f32>(k0.d, k1.d, k2.d, k3.d));
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

fn rowSums(p: mat4x4<f32>) -> vec4<f32> { return (p[0] + p[1]) + (p[2] + p[3]); }

/// o += p · v for one staged value (kv row `row`): pa[i] for query i of group A, pb for B, …
fn accumulateValue(row: u32, pa: vec4<f32>, pb: vec4<f32>, pc: vec4<f32>, pd: vec4<f32>) {
  let v = tileCols(row);
  oA = fmaGroup(pa, v, oA);
#if QR8
  oB = fmaGroup(pb, v, oB);
#endif
#if QR16
  oC = fmaGroup(pc, v, oC);
  oD = fmaGroup(pd, v, oD);
#endif
}

/// Online softmax over keys j0 .. j0+3 (full scores s; keys ≥ nk are past the image): rescale, then p · v.
fn softmaxStep(s: Scores, j0: u32, nk: u32) {
  let keep = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(nk);
  let a = onlineStep(s.a, keep, mA);
  mA = a.m;
  lA = lA * a.corr + rowSums(a.p);
  oA = scaledGroup(oA, a.corr);
  var b: Step;  // steps of the groups this QR runs; zeros, unused, otherwise
  var c: Step;
  var d: Step;
#if QR8
  b = onlineStep(s.b, keep, mB);
  mB = b.m;
  lB = lB * b.corr + rowSums(b.p);
  oB = scaledGroup(oB, b.corr);
#endif
#if QR16
  c = onlineStep(s.c, keep, mC);
  mC = c.m;
  lC = lC * c.corr + rowSums(c.p);
  oC = scaledGroup(oC, c.corr);
  d = onlineStep(s.d, keep, mD);
  mD = d.m;
  lD = lD * d.corr + rowSums(d.p);
  oD = scaledGroup(oD, d.corr);
#endif
  let row = BK * (HD / 4u) + j0 * (HD / 4u);  // the V tile follows the K tile in kv
  accumulateValue(row, a.p[0], b.p[0], c.p[0], d.p[0]);
  accumulateValue(row + HD / 4u, a.p[1], b.p[1], c.p[1], d.p[1]);
  accumulateValue(row + 2u * (HD / 4u), a.p[2], b.p[2], c.p[2], d.p[2]);
  accumulateValue(row + 3u * (HD / 4u), a.p[3], b.p[3], c.p[3], d.p[3]);
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

/// Outputs of queries q … q+3 (rows `stride` vec4s apart from `base`), normalised by l; none ≥ end.
fn storeGroup(base: u32, stride: u32, o: Group, l: vec4<f32>, q: u32, end: u32) {
  if (q < end) { storeOutput(base, o.r0, 1.0 / l.x); }
  if (q + 1u < end) { storeOutput(base + stride, o.r1, 1.0 / l.y); }
  if (q + 2u < end) { storeOutput(base + 2u * stride, o.r2, 1.0 / l.z); }
  if (q + 3u < end) { storeOutput(base + 3u * stride, o.r3, 1.0 / l.w); }
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
  qA = loadGroup(qBase, width4, qi, tile.y);
  mA = vec4<f32>(-3.0e38);
#if QR8
  qB = loadGroup(qBase + 4u * width4, width4, qi + 4u, tile.y);
  mB = vec4<f32>(-3.0e38);
#endif
#if QR16
  qC = loadGroup(qBase + 8u * width4, width4, qi + 8u, tile.y);
  mC = vec4<f32>(-3.0e38);
  qD = loadGroup(qBase + 12u * width4, width4, qi + 12u, tile.y);
  mD = vec4<f32>(-3.0e38);
#endif

  let vOff = BK * HD4;
  for (var k0 = tile.z; k0 < tile.w; k0 += BK) {
    let nk = min(BK, tile.w - k0);
    // Stage the tile; rows past the image's end are zeros (their scores are masked).
    for (var idx = lane; idx < vOff; idx += WG) {
      let j = idx / HD4;
      var kr = vec4<f32>(0.0);
      var vr = vec4<f32>(0.0);
      if (j < nk) {
        let row = (k0 + j) * width4 + head * HD4 + idx % HD4;
        kr = qkv[row + dModel4];
        vr = qkv[row + 2u * dModel4];
      }
      kv[idx] = toTile(kr);
      kv[vOff + idx] = toTile(vr);
    }
    workgroupBarrier();
#if SUBGROUPS
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      var s = partialScores(j0);
      s.a = quadReduce(s.a);
#if QR8
      s.b = quadReduce(s.b);
#endif
#if QR16
      s.c = quadReduce(s.c);
      s.d = quadReduce(s.d);
#endif
      softmaxStep(s, j0, nk);
    }
#else
    // Partials of every key to workgroup memory ([group][quad][lane][key], a vec4 over the group's 4
    // queries), then each lane sums its quad's four.
    let mine = (quad * 4u + laneR) * BK;
    let grp = 64u * BK;  // vec4s per group
    for (var j0 = 0u; j0 < BK; j0 += 4u) {
      let part = partialScores(j0);
      putPartials(mine + j0, part.a);
#if QR8
      putPartials(grp + mine + j0, part.b);
#endif
#if QR16
      putPartials(2u * grp + mine + j0, part.c);
      putPartials(3u * grp + mine + j0, part.d);
#endif
    }
    workgroupBarrier();
    let quadBase = quad * 4u * BK;
    for (var j0 = 0u; j0 < nk; j0 += 4u) {
      let g = quadBase + j0;
      var s: Scores;
      s.a = quadScores(g);
#if QR8
      s.b = quadScores(grp + g);
#endif
#if QR16
      s.c = quadScores(2u * grp + g);
      s.d = quadScores(3u * grp + g);
#endif
      softmaxStep(s, j0, nk);
    }
#endif
    workgroupBarrier();
  }

  let oBase = qi * dModel4 + head * HD4;
  storeGroup(oBase, dModel4, oA, lA, qi, tile.y);
#if QR8
  storeGroup(oBase + 4u * dModel4, dModel4, oB, lB, qi + 4u, tile.y);
#endif
#if QR16
  storeGroup(oBase + 8u * dModel4, dModel4, oC, lC, qi + 8u, tile.y);
  storeGroup(oBase + 12u * dModel4, dModel4, oD, lD, qi + 12u, tile.y);
#endif
}
