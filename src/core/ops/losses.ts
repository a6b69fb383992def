import { CoreError } from "../errors.js";
import { BCE_GRAD_EPS, clampedLog, exp, sigmoid, softplus } from "../numerics.js";
import { slicesAlong } from "../slices.js";
import { type Shape, sameShape, scalar, shapeText, size, type Tensor, zeros } from "../tensor.js";
import {
  apply,
  compound,
  docFormula,
  type Formula,
  group,
  minus,
  negate,
  ONE,
  over,
  partialName,
  symbol,
  times,
} from "./formula.js";
import { classAxisAttr, logSoftmax } from "./softmax.js";
import { type AttrSpec, type Attrs, axis, type FunctionDoc, type OpDef } from "./types.js";

function reductionAttr(defaultValue: "sum" | "mean", why: string): AttrSpec {
  return {
    type: "choice",
    values: ["sum", "mean"],
    default: defaultValue,
    description: `sum adds the per-entry (or per-sample) losses, mean divides that sum by their count; default ${defaultValue}: ${why}`,
  };
}

function sameShapeRule(name: string) {
  return ([t, p]: readonly Shape[]): Shape => {
    if (!sameShape(t, p)) {
      throw new CoreError(
        "shape",
        `${name}: the target is ${shapeText(t)} but the prediction is ${shapeText(p)}; they must have the same shape`,
      );
    }
    return { rows: 1, cols: 1 };
  };
}

function at(t: Shape, k: number): string {
  return `(${Math.floor(k / t.cols) + 1}, ${(k % t.cols) + 1})`;
}

/**
 * A loss that is a sum of one term per entry, ℓ(t, p), divided by the entry count for the mean.
 * dt and dp are ∂ℓ/∂t and ∂ℓ/∂p at one entry.
 */
interface EntrywiseSpec {
  name: string;
  description: string;
  reduction: AttrSpec;
  check?: (t: Tensor, p: Tensor) => void;
  term: (t: number, p: number) => number;
  dt: (t: number, p: number) => number;
  dp: (t: number, p: number) => number;
  d2p: (t: number, p: number) => number;
  /** ℓ, ∂ℓ/∂t and ∂ℓ/∂p in symbols; `target` is the target's number where one is known (bce at y = 1: -1/ŷ). */
  symbol: (t: Formula, p: Formula) => Formula;
  dtSymbol: (t: Formula, p: Formula) => Formula;
  dpSymbol: (t: Formula, p: Formula, target?: number) => Formula;
  doc: FunctionDoc;
}

function entrywiseLoss(spec: EntrywiseSpec): OpDef {
  const mean = (attrs: Attrs, f: Formula) => (attrs.reduction === "mean" ? over(f, symbol("n")) : f);
  const divisor = (x: Shape, attrs: Attrs) => (attrs.reduction === "mean" ? size(x) : 1);
  return {
    name: spec.name,
    category: "loss",
    description: spec.description,
    operands: ["target", "prediction"],
    attrs: { reduction: spec.reduction },
    shape: sameShapeRule(spec.name),
    forward: ([t, p], attrs) => {
      spec.check?.(t, p);
      let total = 0;
      for (let k = 0; k < p.data.length; k++) total += spec.term(t.data[k], p.data[k]);
      return scalar(total / divisor(p, attrs));
    },
    backward: (g, [t, p], _out, attrs) => {
      const scale = g.data[0] / divisor(p, attrs);
      const gt = zeros(t.rows, t.cols);
      const gp = zeros(p.rows, p.cols);
      for (let k = 0; k < p.data.length; k++) {
        gt.data[k] = scale * spec.dt(t.data[k], p.data[k]);
        gp.data[k] = scale * spec.dp(t.data[k], p.data[k]);
      }
      return [gt, gp];
    },
    math: {
      forward: ([t, p], attrs) => mean(attrs, spec.symbol(t, p)),
      // As partials these describe one entry, where the mean divides by n = 1.
      partial: (k, [t, p], _out, values) => (k === 0 ? spec.dtSymbol(t, p) : spec.dpSymbol(t, p, values[0])),
      vjp: (k, g, [t, p], _out, attrs) => mean(attrs, times(g, k === 0 ? spec.dtSymbol(t, p) : spec.dpSymbol(t, p))),
    },
    doc: spec.doc,
    secondDerivative: (p, _attrs, t) => spec.d2p(t, p),
  };
}

function checkUnitInterval(name: string, what: string, x: Tensor, hint: string): void {
  for (let k = 0; k < x.data.length; k++) {
    const v = x.data[k];
    if (!(v >= 0 && v <= 1)) {
      throw new CoreError("domain", `${name} expects ${what} in [0, 1], but entry ${at(x, k)} is ${v}${hint}`);
    }
  }
}

const squaredError = {
  term: (t: number, p: number) => (t - p) * (t - p),
  dt: (t: number, p: number) => 2 * (t - p),
  dp: (t: number, p: number) => -2 * (t - p),
  d2p: () => 2,
  symbol: (t: Formula, p: Formula) =>
    compound(`(${t.text} - ${group(p).text})²`, `\\left(${t.latex} - ${p.latex}\\right)^{2}`),
  dtSymbol: (t: Formula, p: Formula) =>
    compound(`2(${t.text} - ${group(p).text})`, `2\\left(${t.latex} - ${p.latex}\\right)`),
  dpSymbol: (t: Formula, p: Formula) =>
    compound(`-2(${t.text} - ${group(p).text})`, `-2\\left(${t.latex} - ${p.latex}\\right)`),
};

function squaredErrorDoc(averaged: boolean): FunctionDoc {
  const how = averaged ? ", averaged over the entries" : ", summed over the entries";
  return {
    formula: docFormula("(y - p)^2", `\\left(y - p\\right)^{2}${averaged ? " \\text{ (mean)}" : " \\text{ (sum)}"}`),
    derivative: docFormula("-2 * (y - p)", "\\frac{\\partial \\ell}{\\partial p} = -2\\left(y - p\\right)"),
    secondDerivative: docFormula("2", "2"),
    range: `[0, ∞) per entry${how}`,
    derivativeExtrema: [],
  };
}

const sumOfSquares = reductionAttr("sum", "the loss is defined as a sum of squares, as in ||Y - Ŷ||²");

const crossEntropyReduction = reductionAttr(
  "mean",
  "PyTorch's default, so that results match the framework an autograder compares against",
);

export const lossOps: readonly OpDef[] = [
  entrywiseLoss({
    name: "sse",
    description: "Σ (t - p)², the squared L2 norm ||T - P||² (sum of squared errors)",
    reduction: sumOfSquares,
    ...squaredError,
    doc: squaredErrorDoc(false),
  }),
  entrywiseLoss({
    name: "l2",
    description: "alias of sse: Σ (t - p)²",
    reduction: sumOfSquares,
    ...squaredError,
    doc: squaredErrorDoc(false),
  }),
  entrywiseLoss({
    name: "mse",
    description: "mean of (t - p)² over all entries",
    reduction: reductionAttr("mean", "the mean is what makes it the mean squared error"),
    ...squaredError,
    doc: squaredErrorDoc(true),
  }),
  entrywiseLoss({
    name: "bce",
    description: "binary cross-entropy on probabilities: -[t·log p + (1 - t)·log(1 - p)], logs clamped at -100",
    reduction: crossEntropyReduction,
    check: (t, p) => {
      checkUnitInterval("bce", "probabilities", p, "; for raw scores (logits) use bce_with_logits");
      checkUnitInterval("bce", "targets", t, "");
    },
    term: (t, p) => -(t * clampedLog(p) + (1 - t) * clampedLog(1 - p)),
    dt: (_t, p) => clampedLog(1 - p) - clampedLog(p),
    // As PyTorch: (p - t) / max(p(1 - p), ε), finite even at p = 0 or 1.
    dp: (t, p) => (p - t) / Math.max(p * (1 - p), BCE_GRAD_EPS),
    d2p: (t, p) => t / (p * p) + (1 - t) / ((1 - p) * (1 - p)),
    symbol: (t, p) =>
      compound(
        `-(${t.text}·ln ${group(p).text} + (1 - ${group(t).text})·ln(1 - ${group(p).text}))`,
        `-\\left(${t.latex} \\ln ${p.latex} + \\left(1 - ${t.latex}\\right) \\ln\\left(1 - ${p.latex}\\right)\\right)`,
      ),
    dtSymbol: (_t, p) =>
      compound(`ln(1 - ${group(p).text}) - ln ${group(p).text}`, `\\ln\\left(1 - ${p.latex}\\right) - \\ln ${p.latex}`),
    // With the target known to be 1 or 0, the textbook simplifications: -1/ŷ and 1/(1 - ŷ).
    dpSymbol: (t, p, target) => {
      if (target === 1) return compound(`-1/${group(p).text}`, `-\\frac{1}{${p.latex}}`);
      if (target === 0) return over(ONE, minus(ONE, p));
      return over(
        minus(p, t),
        compound(`${group(p).text}(1 - ${group(p).text})`, `${p.latex}\\left(1 - ${p.latex}\\right)`),
      );
    },
    doc: {
      formula: docFormula("-(y * log(p) + (1 - y) * log(1 - p))", "-\\left(y \\ln p + (1 - y) \\ln(1 - p)\\right)"),
      derivative: docFormula(
        "(p - y) / (p * (1 - p))",
        "\\frac{\\partial \\ell}{\\partial p} = \\frac{p - y}{p(1 - p)}",
      ),
      secondDerivative: docFormula("y / p^2 + (1 - y) / (1 - p)^2", "\\frac{y}{p^{2}} + \\frac{1 - y}{(1 - p)^{2}}"),
      range: "[0, 100] per entry: log p and log(1 - p) are clamped at -100, as in PyTorch",
      derivativeExtrema: [],
      atKink: "At p = 0 or 1 the derivative divides by max(p(1 - p), 1e-12), as PyTorch does, so it stays finite.",
    },
  }),
  entrywiseLoss({
    name: "bce_with_logits",
    description:
      "binary cross-entropy on logits z: max(z, 0) - z·t + log(1 + e^(-|z|)), i.e. bce(t, σ(z)) without overflow",
    reduction: crossEntropyReduction,
    check: (t) => checkUnitInterval("bce_with_logits", "targets", t, ""),
    term: (t, z) => softplus(z) - z * t,
    dt: (_t, z) => -z,
    dp: (t, z) => sigmoid(z) - t,
    d2p: (_t, z) => sigmoid(z) * (1 - sigmoid(z)),
    symbol: (t, z) =>
      compound(
        `softplus(${z.text}) - ${group(z).text}·${group(t).text}`,
        `\\operatorname{softplus}(${z.latex}) - ${z.latex} ${t.latex}`,
      ),
    dtSymbol: (_t, z) => negate(z),
    dpSymbol: (t, z) => minus(symbol(`σ(${z.text})`, `\\sigma(${z.latex})`), t),
    doc: {
      formula: docFormula("softplus(p) - p * y", "\\max(p, 0) - p\\,y + \\ln\\left(1 + e^{-|p|}\\right)"),
      derivative: docFormula("sigmoid(p) - y", "\\frac{\\partial \\ell}{\\partial p} = \\sigma(p) - y"),
      secondDerivative: docFormula("sigmoid(p) * (1 - sigmoid(p))", "\\sigma(p)\\left(1 - \\sigma(p)\\right)"),
      range: "[0, ∞) per entry",
      derivativeExtrema: [
        { kind: "infimum", value: -1, where: "y = 1, p → -∞" },
        { kind: "supremum", value: 1, where: "y = 0, p → ∞" },
      ],
    },
  }),
  crossEntropy(),
];

/**
 * Softmax cross-entropy from logits. The target is either a matrix of the logits' shape (one-hot or class
 * probabilities: -Σ t·log_softmax(z)) or one class index per sample (log-sum-exp(z) - z[class]).
 */
function crossEntropy(): OpDef {
  const samples = (z: Shape, ax: 0 | 1) => (ax === 1 ? z.rows : z.cols);
  const classes = (z: Shape, ax: 0 | 1) => (ax === 1 ? z.cols : z.rows);
  const isIndices = (t: Shape, z: Shape) => !sameShape(t, z);
  const divisor = (z: Shape, attrs: Attrs) => (attrs.reduction === "mean" ? samples(z, axis(attrs) as 0 | 1) : 1);

  function checkIndices(t: Tensor, z: Tensor, ax: 0 | 1): void {
    const c = classes(z, ax);
    for (let k = 0; k < t.data.length; k++) {
      const v = t.data[k];
      if (!Number.isInteger(v) || v < 0 || v >= c) {
        throw new CoreError(
          "domain",
          `cross_entropy: class index ${k + 1} is ${v}, but the logits have ${c} classes (indices 0 to ${c - 1})`,
        );
      }
    }
  }

  return {
    name: "cross_entropy",
    category: "loss",
    description: "softmax cross-entropy from logits, with one-hot / probability targets or class indices",
    operands: ["target", "logits"],
    attrs: { axis: classAxisAttr, reduction: crossEntropyReduction },
    shape: ([t, z], attrs) => {
      const n = samples(z, axis(attrs) as 0 | 1);
      const vector = t.rows === 1 || t.cols === 1;
      if (!sameShape(t, z) && !(vector && size(t) === n)) {
        throw new CoreError(
          "shape",
          `cross_entropy: the logits are ${shapeText(z)} (${n} samples), so the target must be ${shapeText(z)} (one-hot) or ${n} class indices, but it is ${shapeText(t)}`,
        );
      }
      return { rows: 1, cols: 1 };
    },
    forward: ([t, z], attrs) => {
      const ax = axis(attrs) as 0 | 1;
      const logp = logSoftmax(z, ax);
      let total = 0;
      if (isIndices(t, z)) {
        checkIndices(t, z, ax);
        slicesAlong(z, ax).forEach((s, i) => {
          total -= logp.data[s.offset + t.data[i] * s.stride];
        });
      } else {
        for (let k = 0; k < z.data.length; k++) total -= t.data[k] * logp.data[k];
      }
      return scalar(total / divisor(z, attrs));
    },
    // dz = (softmax(z)·Σt - t) per sample; with indices t is one-hot and Σt = 1. dt = -log_softmax(z), formed
    // only where the target needs a gradient (a parameter, not the data it nearly always is).
    backward: (g, [t, z], _out, attrs, needs) => {
      const ax = axis(attrs) as 0 | 1;
      const scale = g.data[0] / divisor(z, attrs);
      const logp = logSoftmax(z, ax);
      const gz = zeros(z.rows, z.cols);
      const indices = isIndices(t, z);
      const gt = indices || !needs[0] ? null : zeros(t.rows, t.cols);
      slicesAlong(z, ax).forEach((s, i) => {
        let mass = 1;
        if (!indices) {
          mass = 0;
          for (let k = 0; k < s.length; k++) mass += t.data[s.offset + k * s.stride];
        }
        for (let k = 0; k < s.length; k++) {
          const at = s.offset + k * s.stride;
          const target = indices ? (t.data[i] === k ? 1 : 0) : t.data[at];
          gz.data[at] = scale * (exp(logp.data[at]) * mass - target);
          if (gt) gt.data[at] = -scale * logp.data[at];
        }
      });
      return [gt, gz];
    },
    math: {
      forward: ([t, z]) =>
        apply("CE", "\\operatorname{CE}", compound(`${t.text}, ${z.text}`, `${t.latex}, ${z.latex}`)),
      partial: (k, [t, z], out) => (k === 0 ? partialName(out, t) : minus(softmaxOf(z), t)),
      vjp: (k, g, [t, z]) =>
        k === 0
          ? negate(times(g, apply("log_softmax", "\\log\\operatorname{softmax}", z)))
          : times(g, minus(softmaxOf(z), t)),
    },
    doc: {
      formula: docFormula(
        "log Σ_j exp(z_j) - z_c for class c; -Σ_j t_j log_softmax(z)_j for a target distribution t",
        "\\ell = \\log\\sum_j e^{z_j} - z_c",
      ),
      derivative: docFormula(
        "softmax(z) - t, with t the one-hot vector of the class",
        "\\frac{\\partial \\ell}{\\partial z} = \\operatorname{softmax}(z) - t",
      ),
      range: "[0, ∞) per sample",
      derivativeExtrema: [
        { kind: "infimum", value: -1, where: "the true class's entry, as its probability → 0" },
        { kind: "supremum", value: 1, where: "another class's entry, as its probability → 1" },
      ],
    },
  };
}

function softmaxOf(z: Formula): Formula {
  return apply("softmax", "\\operatorname{softmax}", z);
}
