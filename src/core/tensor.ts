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
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return i;
  }
  return -1;
}
