// y[t, d] = Σ_a weights[t, a] · o[t·A + a, d] (+ addend[t, d] with ADDEND): the routed experts' outputs
// mixed by the router weights, plus the shared experts' output so the MoE block needs no separate add.
// Dispatch: one thread per output value (x + y·ROWS_X).
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> o: array<f32>;             // [T·A, D]
@group(0) @binding(2) var<storage, read> wts: array<f32>;           // [T, A]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;       // [T, D]
#if ADDEND
@group(0) @binding(4) var<storage, read> addend: array<f32>;        // [T, D]
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (i >= u.T * u.D) { return; }
  let t = i / u.D;
  let d = i % u.D;
  var acc = 0.0;
  for (var a = 0u; a < u.A; a++) {
    acc += wts[t * u.A + a] * o[(t * u.A + a) * u.D + d];
  }
#if ADDEND
  acc += addend[i];
#endif
  y[i] = acc;
}
