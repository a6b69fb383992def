import { logSumExp, slicesAlong } from "../slices.js";
import { type Tensor, zeros } from "../tensor.js";
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
      for (let i = 0; i < out.data.length; i++) out.data[i] = Math.exp(out.data[i]);
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
          out.data[at] = g.data[at] - Math.exp(y.data[at]) * total;
        }
      }
      return [out];
    },
  },
];
