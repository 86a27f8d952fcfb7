// Merges the SPLITS partial results of mla_attention_attend (SPLIT) for each (t, h), the flash-decoding reduction:
//   M = max_s m_s;  o = Σ_s e^(m_s − M) o_s / Σ_s e^(m_s − M) l_s   (empty splits have l_s = 0, o_s = 0)
// Dispatch: one thread per output value of [T·H, R] (x + y·ROWS_X).
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> part: array<f32>;          // [T·H·SPLITS, R]
@group(0) @binding(2) var<storage, read> ml: array<f32>;            // [T·H·SPLITS, 2]
@group(0) @binding(3) var<storage, read_write> olat: array<f32>;    // [T·H, R]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (i >= u.n) { return; }
  let th = i / u.R;
  let r = i % u.R;
  var mx = -3.0e38;
  for (var s = 0u; s < u.SPLITS; s++) { mx = max(mx, ml[(th * u.SPLITS + s) * 2u]); }
  var num = 0.0;
  var den = 0.0;
  for (var s = 0u; s < u.SPLITS; s++) {
    let ps = th * u.SPLITS + s;
    let f = exp(ml[ps * 2u] - mx);
    num += f * part[ps * u.R + r];
    den += f * ml[ps * 2u + 1u];
  }
  olat[i] = num / den;
}
