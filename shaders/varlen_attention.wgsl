// Block-diagonal attention per image over a packed qkv [L, 3·H·d] → [L, H·d], softmax scale 1/√d
// (spec §7.4–7.5). Flash-attention style: a workgroup owns one tile of ≤ 64 queries of ONE image and one
// head, and walks only that image's keys (the tile table holds [qStart, qEnd, kStart, kEnd]) in chunks of
// 16 staged in workgroup memory, keeping a running max / sum / output per query (online softmax).
// No score matrix is stored; the work is Σ nᵢ² per head. One thread per query; d ≤ 128.
// Dispatch: (tiles, H).
const BQ: u32 = 64u;
const BK: u32 = 16u;
const HD_MAX: u32 = 128u;


@group(0) @binding(1) var<storage, read> qkv: array<f32>;           // [L, 3·H·d]: q | k | v
@group(0) @binding(2) var<storage, read> tiles: array<vec4<u32>>;   // [tiles] (qStart, qEnd, kStart, kEnd)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;     // [L, H·d]

var<workgroup> ks: array<f32, 2048>;  // [BK, HD_MAX] keys of the current chunk
var<workgroup> vs: array<f32, 2048>;  // [BK, HD_MAX] values of the current chunk

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = tiles[wid.x];
  let head = wid.y;
  let HD = u.HD;
  let dModel = u.HEADS * HD;
  let width = 3u * dModel;
  let qi = tile.x + lid.x;
  let live = qi < tile.y;

  var q: array<f32, HD_MAX>;
  var o: array<f32, HD_MAX>;
  if (live) {
    for (var e = 0u; e < HD; e++) {
      q[e] = qkv[qi * width + head * HD + e] * u.SCALE;
    }
  }
  var m = -3.0e38;
  var l = 0.0;

  for (var k0 = tile.z; k0 < tile.w; k0 += BK) {
    let nk = min(BK, tile.w - k0);
    for (var idx = lid.x; idx < nk * HD; idx += BQ) {
      let j = idx / HD;
      let e = idx % HD;
      let row = (k0 + j) * width + head * HD + e;
      ks[j * HD_MAX + e] = qkv[row + dModel];
      vs[j * HD_MAX + e] = qkv[row + 2u * dModel];
    }
    workgroupBarrier();
    if (live) {
      var s: array<f32, BK>;
      var smax = m;
      for (var j = 0u; j < nk; j++) {
        var dot = 0.0;
        for (var e = 0u; e < HD; e++) {
          dot += q[e] * ks[j * HD_MAX + e];
        }
        s[j] = dot;
        smax = max(smax, dot);
      }
      let corr = exp(m - smax);
      l *= corr;
      for (var e = 0u; e < HD; e++) {
        o[e] *= corr;
      }
      for (var j = 0u; j < nk; j++) {
        let p = exp(s[j] - smax);
        l += p;
        for (var e = 0u; e < HD; e++) {
          o[e] += p * vs[j * HD_MAX + e];
        }
      }
      m = smax;
    }
    workgroupBarrier();
  }
  if (live) {
    let inv = 1.0 / l;
    for (var e = 0u; e < HD; e++) {
      out[qi * dModel + head * HD + e] = o[e] * inv;
    }
  }
}
