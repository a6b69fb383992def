import { wasmSigmoid } from "../kernels/matmul.js";
import { exp, sigmoid, softplus } from "../numerics.js";
import { zeros } from "../tensor.js";
import { apply, docFormula, type Formula, group, hadamard, ONE, piecewise, symbol } from "./formula.js";
import { type AttrSpec, type Attrs, type FunctionDoc, num, type OpCategory, type OpDef } from "./types.js";

interface UnarySpec {
  readonly name: string;
  readonly category: OpCategory;
  readonly description: string;
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  /**
   * y = f(x), entry by entry. Each op writes out its own loop around its f: V8 then inlines f into it, where one
   * loop shared by every op would call each op's f through the same call site, which V8 cannot inline once it
   * has seen several (sigmoid's backward took 9 ns per entry that way, 1.5 ns in a loop of its own).
   */
  readonly f: (x: Float64Array, y: Float64Array, attrs: Attrs) => void;
  /**
   * dx = g·f'(x), entry by entry, given both x and y = f(x): several derivatives are cheapest and most accurate
   * in terms of y.
   */
  readonly df: (g: Float64Array, x: Float64Array, y: Float64Array, dx: Float64Array, attrs: Attrs) => void;
  readonly d2f: (x: number, attrs: Attrs) => number;
  /** f applied to a formula, and f' applied to a formula, for derivations. */
  readonly symbol: (x: Formula) => Formula;
  readonly derivative: (x: Formula) => Formula;
  readonly doc: FunctionDoc;
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
      f(x.data, out.data, attrs);
      return out;
    },
    backward: (g, [x], y, attrs) => {
      const out = zeros(x.rows, x.cols);
      df(g.data, x.data, y.data, out.data, attrs);
      return [out];
    },
    math: {
      forward: ([x]) => spec.symbol(x),
      partial: (_k, [x]) => spec.derivative(x),
      vjp: (_k, g, [x]) => (spec.derivative(x).text === "1" ? g : hadamard(g, spec.derivative(x))),
    },
    doc: spec.doc,
    secondDerivative: (x, attrs) => spec.d2f(x, attrs),
  };
}

const prime = (text: string, latex: string) => (x: Formula) => apply(`${text}'`, `${latex}'`, x);
const named = (text: string, latex: string) => (x: Formula) => apply(text, latex, x);

const everywhere = (value: number, where = "every x"): FunctionDoc["derivativeExtrema"] => [
  { kind: "maximum", value, where },
  { kind: "minimum", value, where },
];

// Derivatives at kinks follow PyTorch, because autograders compare against it:
// relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, abs'(0) = 0.
export const unaryOps: readonly OpDef[] = [
  unary({
    name: "identity",
    category: "activation",
    description: "x (no activation)",
    f: (x, y) => y.set(x),
    df: (g, _x, _y, dx) => dx.set(g),
    d2f: () => 0,
    symbol: (x) => x,
    derivative: () => ONE,
    doc: {
      formula: docFormula("x", "x"),
      derivative: docFormula("1", "1"),
      secondDerivative: docFormula("0", "0"),
      range: "(-∞, ∞)",
      derivativeExtrema: everywhere(1),
    },
  }),
  unary({
    name: "sigmoid",
    category: "activation",
    description: "σ(x) = 1 / (1 + e^(-x))",
    f: (x, y) => {
      if (wasmSigmoid(x, y)) return;
      for (let i = 0; i < x.length; i++) y[i] = sigmoid(x[i]);
    },
    df: (g, _x, y, dx) => {
      for (let i = 0; i < y.length; i++) dx[i] = g[i] * (y[i] * (1 - y[i]));
    },
    d2f: (x) => {
      const s = sigmoid(x);
      return s * (1 - s) * (1 - 2 * s);
    },
    symbol: named("σ", "\\sigma"),
    derivative: prime("σ", "\\sigma"),
    doc: {
      formula: docFormula("1 / (1 + exp(-x))", "\\sigma(x) = \\frac{1}{1 + e^{-x}}"),
      derivative: docFormula("sigmoid(x) * (1 - sigmoid(x))", "\\sigma'(x) = \\sigma(x)\\left(1 - \\sigma(x)\\right)"),
      secondDerivative: docFormula(
        "sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x))",
        "\\sigma''(x) = \\sigma(x)\\left(1 - \\sigma(x)\\right)\\left(1 - 2\\sigma(x)\\right)",
      ),
      range: "(0, 1)",
      derivativeExtrema: [
        { kind: "maximum", value: 0.25, where: "x = 0", at: 0 },
        { kind: "infimum", value: 0, where: "x → ±∞" },
      ],
    },
  }),
  unary({
    name: "tanh",
    category: "activation",
    description: "tanh(x)",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]);
    },
    df: (g, _x, y, dx) => {
      for (let i = 0; i < y.length; i++) dx[i] = g[i] * (1 - y[i] * y[i]);
    },
    d2f: (x) => {
      const t = Math.tanh(x);
      return -2 * t * (1 - t * t);
    },
    symbol: named("tanh", "\\tanh"),
    derivative: prime("tanh", "\\tanh"),
    doc: {
      formula: docFormula(
        "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
        "\\tanh(x) = \\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
      ),
      derivative: docFormula("1 - tanh(x)^2", "\\tanh'(x) = 1 - \\tanh^2(x)"),
      secondDerivative: docFormula(
        "-2 * tanh(x) * (1 - tanh(x)^2)",
        "\\tanh''(x) = -2\\tanh(x)\\left(1 - \\tanh^2(x)\\right)",
      ),
      range: "(-1, 1)",
      derivativeExtrema: [
        { kind: "maximum", value: 1, where: "x = 0", at: 0 },
        { kind: "infimum", value: 0, where: "x → ±∞" },
      ],
    },
  }),
  unary({
    name: "relu",
    category: "activation",
    description: "max(0, x)",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i], 0);
    },
    df: (g, x, _y, dx) => {
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * (x[i] > 0 ? 1 : 0);
    },
    d2f: () => 0,
    symbol: named("relu", "\\operatorname{relu}"),
    derivative: prime("relu", "\\operatorname{relu}"),
    doc: {
      formula: piecewise([{ value: "x", when: "x > 0" }, { value: "0" }], "\\max(0, x)"),
      derivative: piecewise(
        [{ value: "1", when: "x > 0" }, { value: "0" }],
        "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases}",
      ),
      secondDerivative: docFormula("0", "0 \\quad (x \\ne 0)"),
      range: "[0, ∞)",
      derivativeExtrema: [
        { kind: "maximum", value: 1, where: "x > 0" },
        { kind: "minimum", value: 0, where: "x ≤ 0" },
      ],
      atKink: "Undefined at x = 0 mathematically; gradserve uses relu'(0) = 0, as PyTorch does.",
    },
  }),
  unary({
    name: "leaky_relu",
    category: "activation",
    description: "x if x > 0, else slope·x",
    attrs: { slope: { type: "number", default: 0.01, description: "Slope for x ≤ 0 (PyTorch's negative_slope)" } },
    f: (x, y, a) => {
      const slope = num(a, "slope");
      for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
    },
    df: (g, x, _y, dx, a) => {
      const slope = num(a, "slope");
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * (x[i] > 0 ? 1 : slope);
    },
    d2f: () => 0,
    symbol: named("leaky_relu", "\\operatorname{leaky\\_relu}"),
    derivative: prime("leaky_relu", "\\operatorname{leaky\\_relu}"),
    doc: {
      formula: piecewise(
        [{ value: "x", when: "x > 0" }, { value: "slope * x" }],
        "\\begin{cases} x & x > 0 \\\\ s\\,x & x \\le 0 \\end{cases}",
      ),
      derivative: piecewise(
        [{ value: "1", when: "x > 0" }, { value: "slope" }],
        "\\begin{cases} 1 & x > 0 \\\\ s & x \\le 0 \\end{cases}",
      ),
      secondDerivative: docFormula("0", "0 \\quad (x \\ne 0)"),
      range: "(-∞, ∞) for slope > 0",
      derivativeExtrema: [
        { kind: "maximum", value: 1, where: "x > 0 (for slope < 1)" },
        { kind: "minimum", value: 0.01, where: "x ≤ 0: the slope (0.01 by default)" },
      ],
      atKink: "Undefined at x = 0 mathematically; gradserve uses the slope there, as PyTorch does.",
    },
  }),
  unary({
    name: "softplus",
    category: "activation",
    description: "log(1 + e^x)",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = softplus(x[i]);
    },
    df: (g, x, _y, dx) => {
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * sigmoid(x[i]);
    },
    d2f: (x) => sigmoid(x) * (1 - sigmoid(x)),
    symbol: named("softplus", "\\operatorname{softplus}"),
    derivative: named("σ", "\\sigma"),
    doc: {
      formula: docFormula("log(1 + exp(x))", "\\log\\left(1 + e^{x}\\right)"),
      derivative: docFormula("sigmoid(x)", "\\sigma(x)"),
      secondDerivative: docFormula("sigmoid(x) * (1 - sigmoid(x))", "\\sigma(x)\\left(1 - \\sigma(x)\\right)"),
      range: "(0, ∞)",
      derivativeExtrema: [
        { kind: "supremum", value: 1, where: "x → ∞" },
        { kind: "infimum", value: 0, where: "x → -∞" },
      ],
    },
  }),
  unary({
    name: "elu",
    category: "activation",
    description: "x if x > 0, else alpha·(e^x - 1)",
    attrs: { alpha: { type: "number", default: 1, description: "Scale of the negative part" } },
    f: (x, y, a) => {
      const alpha = num(a, "alpha");
      for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : alpha * Math.expm1(x[i]);
    },
    df: (g, x, _y, dx, a) => {
      const alpha = num(a, "alpha");
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * (x[i] > 0 ? 1 : alpha * exp(x[i]));
    },
    d2f: (x, a) => (x > 0 ? 0 : num(a, "alpha") * exp(x)),
    symbol: named("elu", "\\operatorname{elu}"),
    derivative: prime("elu", "\\operatorname{elu}"),
    doc: {
      formula: piecewise(
        [{ value: "x", when: "x > 0" }, { value: "alpha * (exp(x) - 1)" }],
        "\\begin{cases} x & x > 0 \\\\ \\alpha\\left(e^{x} - 1\\right) & x \\le 0 \\end{cases}",
      ),
      derivative: piecewise(
        [{ value: "1", when: "x > 0" }, { value: "alpha * exp(x)" }],
        "\\begin{cases} 1 & x > 0 \\\\ \\alpha e^{x} & x \\le 0 \\end{cases}",
      ),
      secondDerivative: piecewise(
        [{ value: "0", when: "x > 0" }, { value: "alpha * exp(x)" }],
        "\\begin{cases} 0 & x > 0 \\\\ \\alpha e^{x} & x < 0 \\end{cases}",
      ),
      range: "(-alpha, ∞)",
      derivativeExtrema: [
        { kind: "maximum", value: 1, where: "x > 0 (for alpha ≤ 1)" },
        { kind: "infimum", value: 0, where: "x → -∞" },
      ],
      atKink:
        "At x = 0 gradserve uses alpha·e^0 = alpha (the left derivative), as PyTorch does; for alpha = 1 both sides agree.",
    },
  }),
  unary({
    name: "exp",
    category: "function",
    description: "e^x",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = exp(x[i]);
    },
    df: (g, _x, y, dx) => {
      for (let i = 0; i < y.length; i++) dx[i] = g[i] * y[i];
    },
    d2f: exp,
    symbol: (x) => symbol(`e^${group(x).text}`, `e^{${x.latex}}`),
    derivative: (x) => symbol(`e^${group(x).text}`, `e^{${x.latex}}`),
    doc: {
      formula: docFormula("exp(x)", "e^{x}"),
      derivative: docFormula("exp(x)", "e^{x}"),
      secondDerivative: docFormula("exp(x)", "e^{x}"),
      range: "(0, ∞)",
      derivativeExtrema: [
        { kind: "infimum", value: 0, where: "x → -∞" },
        { kind: "unbounded", where: "x → ∞" },
      ],
    },
  }),
  unary({
    name: "log",
    category: "function",
    description: "natural logarithm",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = Math.log(x[i]);
    },
    df: (g, x, _y, dx) => {
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * (1 / x[i]);
    },
    d2f: (x) => -1 / (x * x),
    symbol: named("ln", "\\ln"),
    derivative: (x) => symbol(`1/${group(x).text}`, `\\frac{1}{${x.latex}}`),
    doc: {
      formula: docFormula("log(x)", "\\ln x"),
      derivative: docFormula("1 / x", "\\frac{1}{x}"),
      secondDerivative: docFormula("-1 / x^2", "-\\frac{1}{x^{2}}"),
      range: "(-∞, ∞) for x > 0",
      derivativeExtrema: [
        { kind: "infimum", value: 0, where: "x → ∞" },
        { kind: "unbounded", where: "x → 0+" },
      ],
    },
  }),
  unary({
    name: "sqrt",
    category: "function",
    description: "√x",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = Math.sqrt(x[i]);
    },
    df: (g, _x, y, dx) => {
      for (let i = 0; i < y.length; i++) dx[i] = g[i] * (0.5 / y[i]);
    },
    d2f: (x) => -0.25 / (x * Math.sqrt(x)),
    symbol: (x) => symbol(`√${group(x).text}`, `\\sqrt{${x.latex}}`),
    derivative: (x) => symbol(`1/(2√${group(x).text})`, `\\frac{1}{2\\sqrt{${x.latex}}}`),
    doc: {
      formula: docFormula("sqrt(x)", "\\sqrt{x}"),
      derivative: docFormula("1 / (2 * sqrt(x))", "\\frac{1}{2\\sqrt{x}}"),
      secondDerivative: docFormula("-1 / (4 * x * sqrt(x))", "-\\frac{1}{4x^{3/2}}"),
      range: "[0, ∞) for x ≥ 0",
      derivativeExtrema: [
        { kind: "infimum", value: 0, where: "x → ∞" },
        { kind: "unbounded", where: "x → 0+ (infinite at 0: a non-finite gradient)" },
      ],
    },
  }),
  unary({
    name: "abs",
    category: "function",
    description: "|x|",
    f: (x, y) => {
      for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
    },
    df: (g, x, _y, dx) => {
      for (let i = 0; i < x.length; i++) dx[i] = g[i] * Math.sign(x[i]);
    },
    d2f: () => 0,
    symbol: (x) => symbol(`|${x.text}|`, `\\left|${x.latex}\\right|`),
    derivative: named("sign", "\\operatorname{sign}"),
    doc: {
      formula: piecewise([{ value: "x", when: "x > 0" }, { value: "-x" }], "|x|"),
      derivative: piecewise(
        [{ value: "1", when: "x > 0" }, { value: "-1", when: "x < 0" }, { value: "0" }],
        "\\operatorname{sign}(x)",
      ),
      secondDerivative: docFormula("0", "0 \\quad (x \\ne 0)"),
      range: "[0, ∞)",
      derivativeExtrema: [
        { kind: "maximum", value: 1, where: "x > 0" },
        { kind: "minimum", value: -1, where: "x < 0" },
      ],
      atKink: "Undefined at x = 0 mathematically; gradserve uses 0 there, as PyTorch's sign does.",
    },
  }),
];
