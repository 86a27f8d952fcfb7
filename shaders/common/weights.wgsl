// Weight element access for every storage form, without shader-f16. Needs a module-scope
// `w: array<u32>` binding and uniform fields K (row length), NB (kvq1 blocks per row) and
// SCALE_OFF (u32 word where kvq1 scales start). Exactly one W_* define is set by the wrapper.

#if W_Q8
fn w_scale(block: u32) -> f32 {
  return unpack2x16float(w[u.SCALE_OFF + (block >> 1u)])[block & 1u];
}
#endif
#if W_Q4
fn w_scale(block: u32) -> f32 {
  return unpack2x16float(w[u.SCALE_OFF + (block >> 1u)])[block & 1u];
}
#endif

/// Element (row, k) of a row-major weight [rows, K]; the caller guarantees k < K.
fn w_elem(row: u32, k: u32) -> f32 {
#if W_F32
  return bitcast<f32>(w[row * u.K + k]);
#endif
#if W_F16
  let e = row * u.K + k;
  return unpack2x16float(w[e >> 1u])[e & 1u];
#endif
#if W_BF16
  let e = row * u.K + k;
  let word = w[e >> 1u];
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
#endif
#if W_Q8
  let block = row * u.NB + (k >> 5u);
  let j = k & 31u;
  let word = w[block * 8u + (j >> 2u)];
  let q = bitcast<i32>(word << (24u - 8u * (j & 3u))) >> 24u;
  return f32(q) * w_scale(block);
#endif
#if W_Q4
  let block = row * u.NB + (k >> 5u);
  let j = k & 31u;
  let word = w[block * 4u + (j >> 3u)];
  let q = (word >> (4u * (j & 7u))) & 15u;
  return (f32(q) - 8.0) * w_scale(block);
#endif
}
