import { sigmoid, softplus } from "../numerics.js";
import { zeros } from "../tensor.js";
import { type AttrSpec, type Attrs, num, type OpCategory, type OpDef } from "./types.js";

interface UnarySpec {
  readonly name: string;
  readonly category: OpCategory;
  readonly description: string;
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  readonly f: (x: number, attrs: Attrs) => number;
  /** dy/dx, given both x and y = f(x): several derivatives are cheapest and most accurate in terms of y. */
  readonly df: (x: number, y: number, attrs: Attrs) => number;
}

/** An elementwise function of one operand: the VJP is the gradient times f'(x), entry by entry. */
function unary(spec: UnarySpec): OpDef {
  const { f, df } = spec;
  return {
    name: spec.name,
    category: spec.category,
    description: spec.description,
    operands: ["x"],
    attrs: spec.attrs ?? {},
    shape: ([x]) => x,
    forward: ([x], attrs) => {
      const out = zeros(x.rows, x.cols);
      const xd = x.data;
      const o = out.data;
      for (let i = 0; i < o.length; i++) o[i] = f(xd[i], attrs);
      return out;
    },
    backward: (g, [x], y, attrs) => {
      const out = zeros(x.rows, x.cols);
      const xd = x.data;
      const yd = y.data;
      const gd = g.data;
      const o = out.data;
      for (let i = 0; i < o.length; i++) o[i] = gd[i] * df(xd[i], yd[i], attrs);
      return [out];
    },
  };
}

// Derivatives at kinks follow PyTorch, because autograders compare against it:
// relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, abs'(0) = 0.
export const unaryOps: readonly OpDef[] = [
  unary({
    name: "identity",
    category: "activation",
    description: "x (no activation)",
    f: (x) => x,
    df: () => 1,
  }),
  unary({
    name: "sigmoid",
    category: "activation",
    description: "σ(x) = 1 / (1 + e^(-x))",
    f: sigmoid,
    df: (_x, y) => y * (1 - y),
  }),
  unary({
    name: "tanh",
    category: "activation",
    description: "tanh(x)",
    f: Math.tanh,
    df: (_x, y) => 1 - y * y,
  }),
  unary({
    name: "relu",
    category: "activation",
    description: "max(0, x)",
    f: (x) => Math.max(x, 0),
    df: (x) => (x > 0 ? 1 : 0),
  }),
  unary({
    name: "leaky_relu",
    category: "activation",
    description: "x if x > 0, else slope·x",
    attrs: { slope: { type: "number", default: 0.01, description: "Slope for x ≤ 0 (PyTorch's negative_slope)" } },
    f: (x, a) => (x > 0 ? x : num(a, "slope") * x),
    df: (x, _y, a) => (x > 0 ? 1 : num(a, "slope")),
  }),
  unary({
    name: "softplus",
    category: "activation",
    description: "log(1 + e^x)",
    f: softplus,
    df: (x) => sigmoid(x),
  }),
  unary({
    name: "elu",
    category: "activation",
    description: "x if x > 0, else alpha·(e^x - 1)",
    attrs: { alpha: { type: "number", default: 1, description: "Scale of the negative part" } },
    f: (x, a) => (x > 0 ? x : num(a, "alpha") * Math.expm1(x)),
    df: (x, _y, a) => (x > 0 ? 1 : num(a, "alpha") * Math.exp(x)),
  }),
  unary({ name: "exp", category: "function", description: "e^x", f: Math.exp, df: (_x, y) => y }),
  unary({ name: "log", category: "function", description: "natural logarithm", f: Math.log, df: (x) => 1 / x }),
  unary({ name: "sqrt", category: "function", description: "√x", f: Math.sqrt, df: (_x, y) => 0.5 / y }),
  unary({ name: "abs", category: "function", description: "|x|", f: Math.abs, df: (x) => Math.sign(x) }),
];
