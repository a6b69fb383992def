/** Scalar functions in the forms that stay accurate and finite where the textbook forms do not. */

/** σ(x) without overflow of exp for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x), exact for large |x| where the direct form overflows or loses every digit. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * PyTorch clamps log(p) in binary cross-entropy at -100 so that p = 0 gives a large finite loss
 * instead of Infinity; we follow it so that our numbers agree with the framework students use.
 */
export const LOG_CLAMP = -100;

export function clampedLog(x: number): number {
  return Math.max(Math.log(x), LOG_CLAMP);
}

/** The smallest denominator PyTorch's bce backward divides by, for the same reason. */
export const BCE_GRAD_EPS = 1e-12;
