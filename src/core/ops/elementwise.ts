import { broadcastShape, unbroadcast, type ZipRun, zipBroadcast } from "../broadcast.js";
import { map } from "../tensor.js";
import {
  apply,
  compound,
  type Formula,
  group,
  hadamard,
  minus,
  negate,
  ONE,
  over,
  plus,
  symbol,
  times,
} from "./formula.js";
import type { OpDef } from "./types.js";

const MINUS_ONE = symbol("-1");

// Each formula's own run (broadcast.ts says why).
const addRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = a[ia + j * as] + b[ib + j * bs];
};
const subRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = a[ia + j * as] - b[ib + j * bs];
};
const mulRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = a[ia + j * as] * b[ib + j * bs];
};
const divRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = a[ia + j * as] / b[ib + j * bs];
};
const negDivRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = -a[ia + j * as] / b[ib + j * bs];
};
const powRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) o[at + j] = a[ia + j * as] ** b[ib + j * bs];
};
// d(x^y)/dx = y·x^(y-1), and 0 where y = 0 (x^0 is constant), as PyTorch has it where the form is 0·∞.
const powSlopeRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) {
    const x = a[ia + j * as];
    const y = b[ib + j * bs];
    o[at + j] = y === 0 ? 0 : y * x ** (y - 1);
  }
};
// ln x for d(x^y)/dy = x^y·ln x, and 0 where x = 0 and y ≥ 0 (0^y is constant there), as PyTorch has it.
const powLogRun: ZipRun = (o, at, a, ia, as, b, ib, bs, n) => {
  for (let j = 0; j < n; j++) {
    const x = a[ia + j * as];
    o[at + j] = x === 0 && b[ib + j * bs] >= 0 ? 0 : Math.log(x);
  }
};

/** a·b in text; juxtaposed in LaTeX. */
function product(a: Formula, b: Formula): Formula {
  return compound(`${group(a).text}·${group(b).text}`, `${group(a).latex} ${group(b).latex}`);
}

function power(a: Formula, b: Formula): Formula {
  return compound(`${group(a).text}^${group(b).text}`, `{${group(a).latex}}^{${b.latex}}`);
}

/**
 * Binary elementwise ops with 2-D broadcasting. Each backward forms the partial at the output's shape
 * (the gradient g always has it) and sums it back to the operand's own shape.
 */
function binary(
  name: string,
  description: string,
  forward: OpDef["forward"],
  backward: OpDef["backward"],
  math: OpDef["math"],
): OpDef {
  return {
    name,
    category: "arithmetic",
    description,
    operands: ["a", "b"],
    attrs: {},
    shape: ([a, b]) => broadcastShape(a, b, name),
    forward,
    backward,
    math,
  };
}

/** The math of an elementwise op from its symbol and partials: each VJP is g ⊙ ∂out/∂operand. */
function elementwise(
  forward: (x: readonly Formula[]) => Formula,
  partials: readonly ((x: readonly Formula[], out: Formula) => Formula)[],
): OpDef["math"] {
  return {
    forward,
    partial: (k, x, out) => partials[k](x, out),
    vjp: (k, g, x, out) => {
      const d = partials[k](x, out);
      if (d.text === "1") return g;
      if (d.text === "-1") return negate(g);
      return hadamard(g, d);
    },
  };
}

export const elementwiseOps: readonly OpDef[] = [
  binary(
    "add",
    "a + b",
    ([a, b]) => zipBroadcast(a, b, addRun),
    (g, [a, b]) => [unbroadcast(g, a), unbroadcast(g, b)],
    elementwise(([a, b]) => plus(a, b), [() => ONE, () => ONE]),
  ),
  binary(
    "sub",
    "a - b",
    ([a, b]) => zipBroadcast(a, b, subRun),
    (g, [a, b]) => [
      unbroadcast(g, a),
      unbroadcast(
        map(g, (x) => -x),
        b,
      ),
    ],
    elementwise(([a, b]) => minus(a, b), [() => ONE, () => MINUS_ONE]),
  ),
  binary(
    "mul",
    "a ⊙ b (elementwise product)",
    ([a, b]) => zipBroadcast(a, b, mulRun),
    (g, [a, b]) => [unbroadcast(zipBroadcast(g, b, mulRun), a), unbroadcast(zipBroadcast(g, a, mulRun), b)],
    elementwise(([a, b]) => product(a, b), [([, b]) => b, ([a]) => a]),
  ),
  binary(
    "div",
    "a / b (elementwise quotient)",
    ([a, b]) => zipBroadcast(a, b, divRun),
    (g, [a, b], out) => [
      unbroadcast(zipBroadcast(g, b, divRun), a),
      unbroadcast(zipBroadcast(zipBroadcast(g, out, mulRun), b, negDivRun), b),
    ],
    elementwise(
      ([a, b]) => over(a, b),
      [([, b]) => over(ONE, b), ([a, b]) => negate(over(a, symbol(`${group(b).text}²`, `${group(b).latex}^{2}`)))],
    ),
  ),
  binary(
    "pow",
    "a^b (elementwise power)",
    ([a, b]) => zipBroadcast(a, b, powRun),
    // d(a^b)/da = b·a^(b-1) and d(a^b)/db = a^b·ln a (powSlopeRun and powLogRun hold PyTorch's values where
    // those forms are 0·∞). db is formed only when b needs a gradient (an exponent that is a parameter), never for x^2.
    (g, [a, b], out, _attrs, needs) => [
      unbroadcast(zipBroadcast(g, zipBroadcast(a, b, powSlopeRun), mulRun), a),
      needs[1]
        ? unbroadcast(zipBroadcast(zipBroadcast(g, out, mulRun), zipBroadcast(a, b, powLogRun), mulRun), b)
        : null,
    ],
    elementwise(
      ([a, b]) => power(a, b),
      [([a, b]) => times(b, power(a, minus(b, ONE))), ([a], out) => times(out, apply("ln", "\\ln", a))],
    ),
  ),
  {
    name: "neg",
    category: "arithmetic",
    description: "-x",
    operands: ["x"],
    attrs: {},
    shape: ([x]) => x,
    forward: ([x]) => map(x, (v) => -v),
    backward: (g) => [map(g, (v) => -v)],
    math: elementwise(([x]) => negate(x), [() => MINUS_ONE]),
  },
];
