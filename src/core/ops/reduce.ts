import { type Shape, size, type Tensor, zeros } from "../tensor.js";
import { apply, ONE, over, symbol } from "./formula.js";
import { type AttrSpec, axis, type OpDef } from "./types.js";

const axisAttr: AttrSpec = {
  type: "axis",
  default: null,
  allowAll: true,
  description:
    "0 sums down each column (one result per column), 1 along each row (one per row); omitted or null: over every entry",
};

function reducedShape(x: Shape, ax: 0 | 1 | null): Shape {
  if (ax === 0) return { rows: 1, cols: x.cols };
  if (ax === 1) return { rows: x.rows, cols: 1 };
  return { rows: 1, cols: 1 };
}

/** Sums along the axis, then divides by divisor (1 for a sum, the count for a mean, as NumPy divides). */
function sumAlong(x: Tensor, ax: 0 | 1 | null, divisor: number): Tensor {
  const s = reducedShape(x, ax);
  const out = zeros(s.rows, s.cols);
  const o = out.data;
  const d = x.data;
  const rs = ax === 0 || ax === null ? 0 : 1;
  const cs = ax === 1 || ax === null ? 0 : 1;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) o[i * rs + j * cs] += d[i * x.cols + j];
  }
  if (divisor !== 1) for (let k = 0; k < o.length; k++) o[k] /= divisor;
  return out;
}

/** The adjoint of a sum: every entry that was added receives the gradient of the total. */
function spread(g: Tensor, to: Shape, divisor: number): Tensor {
  const out = zeros(to.rows, to.cols);
  const o = out.data;
  const gd = g.data;
  const rs = g.rows === 1 ? 0 : g.cols;
  const cs = g.cols === 1 ? 0 : 1;
  for (let i = 0; i < to.rows; i++) {
    for (let j = 0; j < to.cols; j++) o[i * to.cols + j] = gd[i * rs + j * cs] / divisor;
  }
  return out;
}

function count(x: Shape, ax: 0 | 1 | null): number {
  if (ax === 0) return x.rows;
  if (ax === 1) return x.cols;
  return size(x);
}

export const reduceOps: readonly OpDef[] = [
  {
    name: "sum",
    category: "reduction",
    description: "Sum of the entries, over all of them or along one axis",
    operands: ["x"],
    attrs: { axis: axisAttr },
    shape: ([x], attrs) => reducedShape(x, axis(attrs)),
    forward: ([x], attrs) => sumAlong(x, axis(attrs), 1),
    backward: (g, [x]) => [spread(g, x, 1)],
    math: {
      forward: ([x]) => apply("Σ", "\\sum", x),
      partial: () => ONE,
      vjp: (_k, g) => apply("broadcast", "\\operatorname{broadcast}", g),
    },
  },
  {
    name: "mean",
    category: "reduction",
    description: "Mean of the entries, over all of them or along one axis",
    operands: ["x"],
    attrs: { axis: { ...axisAttr, description: axisAttr.description.replace("sums", "averages") } },
    shape: ([x], attrs) => reducedShape(x, axis(attrs)),
    forward: ([x], attrs) => sumAlong(x, axis(attrs), count(x, axis(attrs))),
    backward: (g, [x], _out, attrs) => [spread(g, x, count(x, axis(attrs)))],
    math: {
      forward: ([x]) => apply("mean", "\\operatorname{mean}", x),
      partial: () => symbol("1/n", "\\frac{1}{n}"),
      vjp: (_k, g) => over(apply("broadcast", "\\operatorname{broadcast}", g), symbol("n")),
    },
  },
];
