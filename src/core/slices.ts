import { exp } from "./numerics.js";
import type { Shape } from "./tensor.js";

/** A 1-D run of entries of a row-major matrix: data[offset + k * stride] for k < length. */
export interface Slice {
  readonly offset: number;
  readonly stride: number;
  readonly length: number;
}

/** The slices along an axis: axis 1 gives each row, axis 0 gives each column. */
export function slicesAlong(s: Shape, axis: 0 | 1): Slice[] {
  const out: Slice[] = [];
  if (axis === 1) for (let i = 0; i < s.rows; i++) out.push({ offset: i * s.cols, stride: 1, length: s.cols });
  else for (let j = 0; j < s.cols; j++) out.push({ offset: j, stride: s.cols, length: s.rows });
  return out;
}

/** log Σ exp(x) over a slice, shifted by the maximum so that no exp overflows. */
export function logSumExp(d: Float64Array, { offset, stride, length }: Slice): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < length; k++) m = Math.max(m, d[offset + k * stride]);
  let s = 0;
  for (let k = 0; k < length; k++) s += exp(d[offset + k * stride] - m);
  return m + Math.log(s);
}
