// Scalar helpers WGSL lacks or implements loosely.

/// erf via Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7): WGSL has no erf. The goldens' README notes this
/// moves outputs by ~1e-6, far inside the 1e-4 tolerance; the *other* GELU form would not be.
fn erf_approx(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}

/// tanh that cannot overflow to NaN for large |x| (some backends lower tanh to exp ratios).
fn tanh_stable(x: f32) -> f32 {
  let c = clamp(x, -15.0, 15.0);
  let e = exp(2.0 * c);
  return (e - 1.0) / (e + 1.0);
}
