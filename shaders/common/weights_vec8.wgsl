// Eight weights of one vec4<u32> word (elements 8c .. 8c+7 of a row), bf16 or f16 (W_BF16 / W_F16):
// w_lo4 the first four, w_hi4 the last four. Values as w_elem of common/weights.wgsl gives them.

fn w_pair(x: u32) -> vec2<f32> {
#if W_BF16
  return vec2<f32>(bitcast<f32>(x << 16u), bitcast<f32>(x & 0xffff0000u));
#endif
#if W_F16
  return unpack2x16float(x);
#endif
}

fn w_lo4(v: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(w_pair(v.x), w_pair(v.y));
}

fn w_hi4(v: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(w_pair(v.z), w_pair(v.w));
}
