// MLA prefill in the non-absorbed form (spec §9.3), FlashAttention-2 style, causal:
//   s[t,h,j] = SCALE · (q_nope[t,h]·k_nope[j,h] + q_pe[t,h]·k_pe[j]),  j ≤ POS0 + t
//   o[t,h]   = Σ_j softmax(s[t,h])_j · v[j,h]
// k_nope and v were decompressed from the latent rows by one GEMM (kv = c · kv_bᵀ), so a (query, key) pair
// costs QK + V = 320 MACs per head instead of the absorbed form's 2·R + P = 1,088.
//
// Dispatch (ceil(T / BQ), H): a workgroup owns BQ = 32 consecutive queries of one head and walks the keys
// 0 .. min(KEYS, POS0 + t_last + 1) in tiles of BK, staged in workgroup memory (f32, f16, or f16 packed two
// per u32 without shader-f16). K tile rows are [k_nope | k_pe] (QK4 vec4s), V tile rows v (V4 vec4s).
// Lanes: 16 quads × 4. A quad owns QR = 2 queries; lane r of a quad owns the vec4 columns r, r+4, … of their
// q (NDQ per query) and o (NDV per query), so each staged vec4 serves both queries from registers. A score
// is the sum of the quad's four partial dots: subgroupShuffleXor over 1 and 2 (WebGPU subgroups have ≥ 4
// lanes; a 1-D workgroup fills them in local index order), or a pass through workgroup memory without
// subgroups. Every lane of a quad then holds the full score row and runs the online softmax itself.
// Private arrays are indexed only by loop counters with constant bounds (QR, BK, NDQ, NDV are constants
// once the pipeline's overrides are substituted), so they unroll into registers.
#if SUBGROUPS
enable subgroups;
#endif
#if NATIVE_F16
enable f16;
#endif

override N4: u32;          // qk_nope / 4
override P4: u32;          // qk_rope / 4
override V4: u32;          // v_head / 4
override BK: u32;          // keys per staged tile, ≤ BK_MAX
override NDQ: u32;         // ceil((N4 + P4) / 4): qk vec4 columns per lane
override NDV: u32;         // ceil(V4 / 4): v vec4 columns per lane
override KT_VEC4S: u32;    // BK · (N4 + P4)
override VT_VEC4S: u32;    // BK · V4
const QR: u32 = 2u;
const BQ: u32 = 32u;
const BK_MAX: u32 = 32u;
const NDQ_MAX: u32 = 12u;  // qk head dim ≤ 192
const NDV_MAX: u32 = 8u;   // v head dim ≤ 128
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [T, H·QK4]: q_nope | roped q_pe per head
@group(0) @binding(2) var<storage, read> kv: array<vec4<f32>>;       // [KEYS, H·(N4+V4)]: k_nope | v per head
@group(0) @binding(3) var<storage, read> kpe: array<vec4<f32>>;      // [KEYS, P4]: roped k_pe (shared by heads)
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>; // [T, H·V4]

#if KV_F16
#if NATIVE_F16
alias Tile = vec4<f16>;
fn toTile(x: vec4<f32>) -> vec4<f16> { return vec4<f16>(x); }
fn fromTile(x: vec4<f16>) -> vec4<f32> { return vec4<f32>(x); }
#else
alias Tile = vec2<u32>;
fn toTile(x: vec4<f32>) -> vec2<u32> { return vec2<u32>(pack2x16float(x.xy), pack2x16float(x.zw)); }
fn fromTile(x: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(x.x), unpack2x16float(x.y)); }
#endif
#else
alias Tile = vec4<f32>;
fn toTile(x: vec4<f32>) -> vec4<f32> { return x; }
fn fromTile(x: vec4<f32>) -> vec4<f32> { return x; }
#endif
var<workgroup> ks: array<Tile, KT_VEC4S>;  // [BK, QK4] k_nope | k_pe of the current tile
var<workgroup> vs: array<Tile, VT_VEC4S>;  // [BK, V4] values of the current tile
#if SUBGROUPS
#else
override RED_VEC4S: u32;  // BQ · BK: the partial-dot exchange without subgroups
var<workgroup> red: array<vec4<f32>, RED_VEC4S>;  // [BQ, BK] one partial dot per lane of the quad (.xyzw)
#endif

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let head = wid.y;
  let QK4 = N4 + P4;
  let KV4 = N4 + V4;
  let quad = lane / 4u;
  let r = lane % 4u;
  let t0 = wid.x * BQ;
  let qBase = t0 + quad * QR;
  // Causal: the tile's last query (t0 + BQ − 1, clamped to T − 1) sees keys up to POS0 + that.
  let kEnd = u.POS0 + min(t0 + BQ, u.T);

  var qr: array<vec4<f32>, QR * NDQ_MAX>;  // [QR, NDQ] this lane's qk columns of its queries, pre-scaled
  var o: array<vec4<f32>, QR * NDV_MAX>;   // [QR, NDV] unnormalised outputs
  var m: array<f32, QR>;
  var l: array<f32, QR>;
  for (var a = 0u; a < QR; a++) {
    let t = qBase + a;
    m[a] = -3.0e38;
    l[a] = 0.0;
    for (var c = 0u; c < NDQ; c++) {
      let col = r + 4u * c;
      var v = vec4<f32>(0.0);
      if (t < u.T && col < QK4) {
        v = q[(t * u.H + head) * QK4 + col] * u.SCALE;
      }
      qr[a * NDQ_MAX + c] = v;
    }
    for (var c = 0u; c < NDV; c++) {
      o[a * NDV_MAX + c] = vec4<f32>(0.0);
    }
  }

  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    let nk = min(BK, kEnd - k0);
    // Stage the tile; rows past the visible end are zeros (their scores are masked below).
    for (var idx = lane; idx < BK * QK4; idx += WG) {
      let j = idx / QK4;
      let col = idx % QK4;
      var kx = vec4<f32>(0.0);
      if (j < nk) {
        let key = k0 + j;
        if (col < N4) {
          kx = kv[(key * u.H + head) * KV4 + col];
        } else {
          kx = kpe[key * P4 + col - N4];
        }
      }
      ks[idx] = toTile(kx);
    }
    for (var idx = lane; idx < BK * V4; idx += WG) {
      let j = idx / V4;
      var vx = vec4<f32>(0.0);
      if (j < nk) {
        vx = kv[((k0 + j) * u.H + head) * KV4 + N4 + idx % V4];
      }
      vs[idx] = toTile(vx);
    }
    workgroupBarrier();

    var s: array<f32, QR * BK_MAX>;  // [QR, BK] partial, then full scores
    for (var a = 0u; a < QR; a++) {
      for (var j = 0u; j < BK; j++) {
        var part = 0.0;
        for (var c = 0u; c < NDQ; c++) {
          let col = r + 4u * c;
          if (col < QK4) {
            part += dot(qr[a * NDQ_MAX + c], fromTile(ks[j * QK4 + col]));
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

    // Online softmax over the keys this query sees (k0 + j ≤ POS0 + t): rescale by exp(m_old − m_new),
    // then accumulate p·v for this lane's columns. Key 0 is visible to every query, so the first tile
    // sets a finite max and l > 0; a later tile wholly in a query's future leaves it unchanged.
    for (var a = 0u; a < QR; a++) {
      let last = u.POS0 + qBase + a;  // the query's position: its last visible key
      var smax = m[a];
      for (var j = 0u; j < BK; j++) {
        if (j < nk && k0 + j <= last) {
          smax = max(smax, s[a * BK_MAX + j]);
        }
      }
      let corr = exp(m[a] - smax);
      var lsum = l[a] * corr;
      for (var c = 0u; c < NDV; c++) {
        o[a * NDV_MAX + c] *= corr;
      }
      for (var j = 0u; j < BK; j++) {
        let p = select(0.0, exp(s[a * BK_MAX + j] - smax), j < nk && k0 + j <= last);
        lsum += p;
        for (var c = 0u; c < NDV; c++) {
          let col = r + 4u * c;
          if (col < V4) {
            o[a * NDV_MAX + c] += p * fromTile(vs[j * V4 + col]);
          }
        }
      }
      m[a] = smax;
      l[a] = lsum;
    }
    workgroupBarrier();
  }

  for (var a = 0u; a < QR; a++) {
    let t = qBase + a;
    if (t < u.T) {
      let inv = 1.0 / l[a];
      for (var c = 0u; c < NDV; c++) {
        let col = r + 4u * c;
        if (col < V4) {
          out[(t * u.H + head) * V4 + col] = o[a * NDV_MAX + c] * inv;
        }
      }
    }
  }
}
