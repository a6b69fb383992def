import { type Tensor, zeros } from "../tensor.js";

/**
 * C = A·B with the i-k-j loop order, so the innermost loop walks B and C along rows (unit stride).
 * This is the reference kernel; faster kernels must agree with it to float64 rounding.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const m = a.rows;
  const n = b.cols;
  const kk = a.cols;
  const out = zeros(m, n);
  const ad = a.data;
  const bd = b.data;
  const c = out.data;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let k = 0; k < kk; k++) {
      const aik = ad[i * kk + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * bd[bk + j];
    }
  }
  return out;
}
