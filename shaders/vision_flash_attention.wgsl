// MoonViT attention, FlashAttention-2 style (spec §7.4–7.5): block-diagonal per image over a packed qkv
// [L, 3·H·d] → [L, H·d], softmax scale 1/√d, no mask, no padding and no L×L score matrix (work Σ nᵢ² per head).
//
// Dispatch (tiles, H): a workgroup owns one tile of ≤ BQ = 32 queries of ONE image (the tile table holds
// [qStart, qEnd, kStart, kEnd]) and one head, and walks only that image's keys in tiles of BK, staged in
// workgroup memory (f32, f16, or f16 packed two per u32 where the adapter lacks shader-f16).
// Lanes: 16 quads × 4. A quad owns QR = 2 queries (the register block rows); lane r of a quad owns the
// head-dim columns (in vec4s) r, r+4, r+8, … of those queries' q and o, so a staged K or V vec4 serves
// both queries from registers. A score is the sum of the quad's four partial dots: subgroupShuffleXor
// over 1 and 2 (WebGPU subgroups have ≥ 4 lanes; 1-D workgroups fill them in local index order), or
// without subgroups a pass through workgroup memory. Every lane of a quad then holds the same full score
// row and runs the online softmax itself (running max m, sum l, rescaled o), so no other exchange is needed.
// Private arrays are indexed only by loop counters with constant bounds (QR, BK, ND are constants once the
// pipeline's overrides are substituted), so they unroll into registers.
#if SUBGROUPS
enable subgroups;
#endif
#if NATIVE_F16
enable f16;
#endif

override HD: u32;         // head dim, a multiple of 4, ≤ 128
override BK: u32;         // keys per staged tile, ≤ BK_MAX
override ND: u32;         // vec4 columns per lane: ceil(HD / 16)
override TILE_VEC4S: u32; // BK · HD / 4: vec4 slots of one staged K or V tile
const QR: u32 = 2u;
const BQ: u32 = 32u;
const BK_MAX: u32 = 32u;
const ND_MAX: u32 = 8u;
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
override RED_VEC4S: u32;  // BQ · BK: the partial-dot exchange without subgroups
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [BQ, BK] one partial dot per lane of the quad (.xyzw)
#endif

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let tile = tiles[wid.x];
  let head = wid.y;
  let HD4 = HD / 4u;
  let dModel4 = u.HEADS * HD4;
  let width4 = 3u * dModel4;
  let quad = lane / 4u;
  let r = lane % 4u;
  let qBase = tile.x + quad * QR;

  var q: array<vec4<f32>, QR * ND_MAX>;  // [QR, ND] this lane's columns of its queries, pre-scaled
  var o: array<vec4<f32>, QR * ND_MAX>;  // [QR, ND] unnormalised outputs
  var m: array<f32, QR>;
  var l: array<f32, QR>;
  for (var a = 0u; a < QR; a++) {
    let qi = qBase + a;
    m[a] = -3.0e38;
    l[a] = 0.0;
    for (var c = 0u; c < ND; c++) {
      let col = r + 4u * c;
      var v = vec4<f32>(0.0);
      if (qi < tile.y && col < HD4) {
        v = qkv[qi * width4 + head * HD4 + col] * u.SCALE;
      }
      q[a * ND_MAX + c] = v;
      o[a * ND_MAX + c] = vec4<f32>(0.0);
    }
  }

  for (var k0 = tile.z; k0 < tile.w; k0 += BK) {
    let nk = min(BK, tile.w - k0);
    // Stage the tile; rows past the image's end are zeros (their scores are masked below).
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

    var s: array<f32, QR * BK_MAX>;  // [QR, BK] partial, then full scores
    for (var a = 0u; a < QR; a++) {
      for (var j = 0u; j < BK; j++) {
        var part = 0.0;
        for (var c = 0u; c < ND; c++) {
          let col = r + 4u * c;
          if (col < HD4) {
            part += dot(q[a * ND_MAX + c], fromTile(ks[j * HD4 + col]));
          }
        }
        s[a * BK_MAX + j] = part;
      }
    }
#if SUBGROUPS
    for (var a = 0u; a < QR; a++) {
      for (var j = 0u; j < BK; j++) {
        var x = s[a * BK_MAX + j];
        x += subgroupShuffleXor(x, 1u);
        x += subgroupShuffleXor(x, 2u);
        s[a * BK_MAX + j] = x;
      }
    }
#else
    for (var a = 0u; a < QR; a++) {
      for (var j = 0u; j < BK; j++) {
        red[(quad * QR + a) * BK + j][r] = s[a * BK_MAX + j];
      }
    }
    workgroupBarrier();
    for (var a = 0u; a < QR; a++) {
      for (var j = 0u; j < BK; j++) {
        let p4 = red[(quad * QR + a) * BK + j];
        s[a * BK_MAX + j] = (p4.x + p4.y) + (p4.z + p4.w);
      }
    }
#endif

    // Online softmax: rescale by exp(m_old − m_new), then accumulate p·v for this lane's columns.
    for (var a = 0u; a < QR; a++) {
      var smax = m[a];
      for (var j = 0u; j < BK; j++) {
        if (j < nk) {
          smax = max(smax, s[a * BK_MAX + j]);
        }
      }
      let corr = exp(m[a] - smax);
      var lsum = l[a] * corr;
      for (var c = 0u; c < ND; c++) {
        o[a * ND_MAX + c] *= corr;
      }
      for (var j = 0u; j < BK; j++) {
        let p = select(0.0, exp(s[a * BK_MAX + j] - smax), j < nk);
        lsum += p;
        for (var c = 0u; c < ND; c++) {
          let col = r + 4u * c;
          if (col < HD4) {
            o[a * ND_MAX + c] += p * fromTile(vs[j * HD4 + col]);
          }
        }
      }
      m[a] = smax;
      l[a] = lsum;
    }
    workgroupBarrier();
  }

  for (var a = 0u; a < QR; a++) {
    let qi = qBase + a;
    if (qi < tile.y) {
      let inv = 1.0 / l[a];
      for (var c = 0u; c < ND; c++) {
        let col = r + 4u * c;
        if (col < HD4) {
          out[qi * dModel4 + head * HD4 + col] = o[a * ND_MAX + c] * inv;
        }
      }
    }
  }
}
