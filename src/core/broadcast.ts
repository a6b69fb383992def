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

/** out[i][j] = f(a[i][j], b[i][j]) with broadcast operands read through zero strides. */
export function zipBroadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const rows = Math.max(a.rows, b.rows);
  const cols = Math.max(a.cols, b.cols);
  const out = zeros(rows, cols);
  const ad = a.data;
  const bd = b.data;
  const o = out.data;
  if (a.rows === b.rows && a.cols === b.cols) {
    for (let k = 0; k < o.length; k++) o[k] = f(ad[k], bd[k]);
    return out;
  }
  const ars = a.rows === 1 ? 0 : a.cols;
  const acs = a.cols === 1 ? 0 : 1;
  const brs = b.rows === 1 ? 0 : b.cols;
  const bcs = b.cols === 1 ? 0 : 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) o[i * cols + j] = f(ad[i * ars + j * acs], bd[i * brs + j * bcs]);
  }
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
