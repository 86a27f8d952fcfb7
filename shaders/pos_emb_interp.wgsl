// Learned position table [H0, W0, D] resized to one image's grid [GH, GW] like torch
// F.interpolate(mode="bicubic", align_corners=False), written at output rows ROW0 + (r − GR0)·GW + c for
// the grid rows r = GR0 … GR0 + (workgroups y) − 1 (GR0 = 0: the whole image).
// Per axis: src = scale·(dst + 0.5) − 0.5 (f32, not clamped), taps floor(src)−1 … +2 clamped to the edge,
// Keys cubic weights with A = −0.75; along x for each of the 4 source rows, then along y (spec §7.2).
// Dispatch: (GW, GH) workgroups, one per output patch; the 64 threads stride over D.
@group(0) @binding(1) var<storage, read> w: array<u32>;          // table [H0·W0, D] in the W_* storage form
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [L, D]; this dispatch writes GH·GW rows

#include "common/weights.wgsl"

const A: f32 = -0.75;

// The same polynomials as ATen's cubic helpers, factored so f32 evaluation does not cancel:
// outer taps A·(x−1)(x−2)² with x = 1+t or 2−t, inner taps 1 − s²((A+3) − (A+2)s) with s = t or 1−t.
fn cubic_weights(t: f32) -> vec4<f32> {
  let s = 1.0 - t;
  return vec4<f32>(
    A * t * s * s,
    1.0 - t * t * ((A + 3.0) - (A + 2.0) * t),
    1.0 - s * s * ((A + 3.0) - (A + 2.0) * s),
    A * s * t * t,
  );
}

fn tap(i0: i32, o: i32, size: u32) -> u32 {
  return u32(clamp(i0 + o, 0, i32(size) - 1));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x;
  let r = u.GR0 + wid.y; // grid row; the dispatch covers rows GR0 .. GR0 + (workgroups y)
  let sy = u.SCALE_H * (f32(r) + 0.5) - 0.5;
  let sx = u.SCALE_W * (f32(c) + 0.5) - 0.5;
  let fy = floor(sy);
  let fx = floor(sx);
  let wy = cubic_weights(sy - fy);
  let wx = cubic_weights(sx - fx);
  let y0 = i32(fy);
  let x0 = i32(fx);
  let o = (u.ROW0 + wid.y * u.GW + c) * u.K;
  for (var e = lid.x; e < u.K; e += 64u) {
    var acc = 0.0;
    for (var a = 0; a < 4; a++) {
      let row = tap(y0, a - 1, u.H0) * u.W0;
      var v = 0.0;
      for (var b = 0; b < 4; b++) {
        v += wx[b] * w_elem(row + tap(x0, b - 1, u.W0), e);
      }
      acc += wy[a] * v;
    }
    out[o + e] = acc;
  }
}
