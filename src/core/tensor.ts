/**
 * Dense float64 matrices: the only value type of the core. Scalars are 1×1 and vectors are 1×n or n×1,
 * so every op can be written once for the 2-D case.
 */
export interface Shape {
  readonly rows: number;
  readonly cols: number;
}

export interface Tensor extends Shape {
  /** Row-major: entry (i, j) is data[i * cols + j]. */
  readonly data: Float64Array;
}

export function zeros(rows: number, cols: number): Tensor {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function scalar(value: number): Tensor {
  return { rows: 1, cols: 1, data: Float64Array.of(value) };
}

export function fromRows(rows: readonly (readonly number[])[]): Tensor {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0].length;
  const out = zeros(r, c);
  const d = out.data;
  // A plain loop: TypedArray.set from an array costs microseconds per call, 16 ns an entry for short rows.
  for (let i = 0; i < r; i++) {
    const row = rows[i];
    for (let j = 0, k = i * c; j < c; j++, k++) d[k] = row[j];
  }
  return out;
}

export function toRows(t: Tensor): number[][] {
  const out: number[][] = new Array(t.rows);
  const d = t.data;
  // A plain loop: Array.from over a subarray costs several times as much per entry. Rows are pushed rather
  // than preallocated, since JSON.stringify has a fast path for packed arrays that holey ones miss (~10%).
  for (let i = 0; i < t.rows; i++) {
    const row: number[] = [];
    for (let j = 0, k = i * t.cols; j < t.cols; j++, k++) row.push(d[k]);
    out[i] = row;
  }
  return out;
}

export function size(s: Shape): number {
  return s.rows * s.cols;
}

export function isScalar(s: Shape): boolean {
  return s.rows === 1 && s.cols === 1;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.rows === b.rows && a.cols === b.cols;
}

/** The way shapes are written in every message: "3×4". */
export function shapeText(s: Shape): string {
  return `${s.rows}×${s.cols}`;
}

export function map(t: Tensor, f: (x: number) => number): Tensor {
  const out = zeros(t.rows, t.cols);
  const a = t.data;
  const o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = f(a[i]);
  return out;
}

export function transpose(t: Tensor): Tensor {
  const out = zeros(t.cols, t.rows);
  const a = t.data;
  const o = out.data;
  for (let i = 0; i < t.rows; i++) {
    for (let j = 0; j < t.cols; j++) o[j * t.rows + i] = a[i * t.cols + j];
  }
  return out;
}

/** Index of the first entry that is NaN or ±Infinity, or -1. */
export function firstNonFinite(t: Tensor): number {
  const a = t.data;
  // Every value and gradient of every request passes through here, nearly always finite. v - v is 0 for a
  // finite v and NaN otherwise, so four running sums of it (four, so that the additions do not wait on each
  // other) stay 0 exactly when every entry is finite: 0.3 ns per entry against 0.75 ns for testing each one.
  // Only a tensor with a non-finite entry is then searched for it.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < a.length; i += 4) {
    const v0 = a[i];
    const v1 = a[i + 1];
    const v2 = a[i + 2];
    const v3 = a[i + 3];
    s0 += v0 - v0;
    s1 += v1 - v1;
    s2 += v2 - v2;
    s3 += v3 - v3;
  }
  for (; i < a.length; i++) s0 += a[i] - a[i];
  if (s0 + s1 + s2 + s3 === 0) return -1;
  return a.findIndex((v) => !Number.isFinite(v));
}
