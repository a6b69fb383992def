import { exp } from "../numerics.js";
import { logSumExp, slicesAlong } from "../slices.js";
import { type Tensor, zeros } from "../tensor.js";
import { apply, docFormula, hadamard, minus, partialName, times } from "./formula.js";
import { type AttrSpec, axis, type OpDef } from "./types.js";

export const classAxisAttr: AttrSpec = {
  type: "axis",
  default: 1,
  allowAll: false,
  description:
    "The axis that holds the classes: 1 when samples are rows (each row is normalized, PyTorch's dim=1), 0 when samples are columns",
};

/** log softmax along the class axis via log-sum-exp, so that large logits neither overflow nor lose digits. */
export function logSoftmax(x: Tensor, ax: 0 | 1): Tensor {
  const out = zeros(x.rows, x.cols);
  for (const s of slicesAlong(x, ax)) {
    const lse = logSumExp(x.data, s);
    for (let k = 0; k < s.length; k++) {
      const at = s.offset + k * s.stride;
      out.data[at] = x.data[at] - lse;
    }
  }
  return out;
}

export const softmaxOps: readonly OpDef[] = [
  {
    name: "softmax",
    category: "activation",
    description: "e^(x_i) / Σ_j e^(x_j) along the class axis",
    operands: ["x"],
    attrs: { axis: classAxisAttr },
    shape: ([x]) => x,
    forward: ([x], attrs) => {
      const out = logSoftmax(x, axis(attrs) as 0 | 1);
      for (let i = 0; i < out.data.length; i++) out.data[i] = exp(out.data[i]);
      return out;
    },
    // dx = y ⊙ (g - Σ g⊙y) within each slice: the Jacobian diag(y) - y yᵀ applied to g.
    backward: (g, [x], y, attrs) => {
      const out = zeros(x.rows, x.cols);
      for (const s of slicesAlong(x, axis(attrs) as 0 | 1)) {
        let dot = 0;
        for (let k = 0; k < s.length; k++) dot += g.data[s.offset + k * s.stride] * y.data[s.offset + k * s.stride];
        for (let k = 0; k < s.length; k++) {
          const at = s.offset + k * s.stride;
          out.data[at] = y.data[at] * (g.data[at] - dot);
        }
      }
      return [out];
    },
    math: {
      forward: ([x]) => apply("softmax", "\\operatorname{softmax}", x),
      partial: (_k, [x], out) => partialName(out, x),
      // The Jacobian diag(y) - y yᵀ applied to g.
      vjp: (_k, g, _x, y) => hadamard(y, minus(g, apply("Σ", "\\sum", hadamard(g, y)))),
    },
    doc: {
      formula: docFormula(
        "exp(x_i) / Σ_j exp(x_j) along the class axis",
        "\\operatorname{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}",
      ),
      derivative: docFormula(
        "∂y_i/∂x_j = y_i (δ_ij - y_j): the Jacobian diag(y) - y yᵀ",
        "\\frac{\\partial y_i}{\\partial x_j} = y_i\\left(\\delta_{ij} - y_j\\right)",
      ),
      range: "(0, 1) in each entry; each slice along the class axis sums to 1",
      derivativeExtrema: [
        { kind: "maximum", value: 0.25, where: "diagonal entries y_i(1 - y_i), at y_i = 1/2" },
        { kind: "minimum", value: -0.25, where: "off-diagonal entries -y_i y_j, at y_i = y_j = 1/2" },
      ],
    },
  },
  {
    name: "log_softmax",
    category: "function",
    description: "x_i - log Σ_j e^(x_j) along the class axis",
    operands: ["x"],
    attrs: { axis: classAxisAttr },
    shape: ([x]) => x,
    forward: ([x], attrs) => logSoftmax(x, axis(attrs) as 0 | 1),
    // dx = g - softmax(x) · Σ g within each slice.
    backward: (g, [x], y, attrs) => {
      const out = zeros(x.rows, x.cols);
      for (const s of slicesAlong(x, axis(attrs) as 0 | 1)) {
        let total = 0;
        for (let k = 0; k < s.length; k++) total += g.data[s.offset + k * s.stride];
        for (let k = 0; k < s.length; k++) {
          const at = s.offset + k * s.stride;
          out.data[at] = g.data[at] - exp(y.data[at]) * total;
        }
      }
      return [out];
    },
    math: {
      forward: ([x]) => apply("log_softmax", "\\log\\operatorname{softmax}", x),
      partial: (_k, [x], out) => partialName(out, x),
      vjp: (_k, g, [x]) => minus(g, times(apply("softmax", "\\operatorname{softmax}", x), apply("Σ", "\\sum", g))),
    },
  },
];
