import { CoreError } from "./errors.js";
import { type Shape, shapeText, type Tensor, zeros } from "./tensor.js";

/**
 * NumPy's broadcasting restricted to 2-D: each dimension must agree or be 1 on one side.
 * This covers a scalar with anything, a bias row or column with a batch, and an outer sum.
 */
export function broadcastShape(a: Shape, b: Shape, what: string): Shape {
  const rows = broadcastDim(a.rows, b.rows);
  const cols = broadcastDim(a.cols, b.cols);
  if (rows < 0 || cols < 0) {
    throw new CoreError(
      "shape",
      `${what} cannot combine ${shapeText(a)} with ${shapeText(b)}: each dimension must match or be 1`,
    );
  }
  return { rows, cols };
}

function broadcastDim(m: number, n: number): number {
  if (m === n || n === 1) return m;
  if (m === 1) return n;
  return -1;
}

/**
 * One run of a binary elementwise op: o[at + j] = f(a[ia + j·as], b[ib + j·bs]) for j < n. Each op writes its
 * own run, a loop of one line, so that V8 inlines the op's arithmetic into it: one loop calling every op's f
 * through the same call site cannot be inlined once it has seen several (a bias add of 128×256 took 0.27 ms that
 * way in a process that had run the other binary ops, and takes 0.066 ms with its own run).
 */
export type ZipRun = (
  o: Float64Array,
  at: number,
  a: Float64Array,
  ia: number,
  as: number,
  b: Float64Array,
  ib: number,
  bs: number,
  n: number,
) => void;

/** out[i][j] = f(a[i][j], b[i][j]), f given as its run, with broadcast operands read through zero strides. */
export function zipBroadcast(a: Tensor, b: Tensor, run: ZipRun): Tensor {
  const rows = Math.max(a.rows, b.rows);
  const cols = Math.max(a.cols, b.cols);
  const out = zeros(rows, cols);
  if (a.rows === b.rows && a.cols === b.cols) {
    run(out.data, 0, a.data, 0, 1, b.data, 0, 1, out.data.length);
    return out;
  }
  const ars = a.rows === 1 ? 0 : a.cols;
  const acs = a.cols === 1 ? 0 : 1;
  const brs = b.rows === 1 ? 0 : b.cols;
  const bcs = b.cols === 1 ? 0 : 1;
  for (let i = 0; i < rows; i++) run(out.data, i * cols, a.data, i * ars, acs, b.data, i * brs, bcs, cols);
  return out;
}

/** The adjoint of broadcasting: sums a gradient over the dimensions that were stretched to reach it. */
export function unbroadcast(g: Tensor, to: Shape): Tensor {
  if (g.rows === to.rows && g.cols === to.cols) return g;
  const out = zeros(to.rows, to.cols);
  const o = out.data;
  const gd = g.data;
  const rs = to.rows === 1 ? 0 : to.cols;
  const cs = to.cols === 1 ? 0 : 1;
  for (let i = 0; i < g.rows; i++) {
    for (let j = 0; j < g.cols; j++) o[i * rs + j * cs] += gd[i * g.cols + j];
  }
  return out;
}
