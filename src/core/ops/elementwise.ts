import { broadcastShape, unbroadcast, zipBroadcast } from "../broadcast.js";
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
    ([a, b]) => zipBroadcast(a, b, (x, y) => x + y),
    (g, [a, b]) => [unbroadcast(g, a), unbroadcast(g, b)],
    elementwise(([a, b]) => plus(a, b), [() => ONE, () => ONE]),
  ),
  binary(
    "sub",
    "a - b",
    ([a, b]) => zipBroadcast(a, b, (x, y) => x - y),
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
    ([a, b]) => zipBroadcast(a, b, (x, y) => x * y),
    (g, [a, b]) => [
      unbroadcast(
        zipBroadcast(g, b, (gi, y) => gi * y),
        a,
      ),
      unbroadcast(
        zipBroadcast(g, a, (gi, x) => gi * x),
        b,
      ),
    ],
    elementwise(([a, b]) => product(a, b), [([, b]) => b, ([a]) => a]),
  ),
  binary(
    "div",
    "a / b (elementwise quotient)",
    ([a, b]) => zipBroadcast(a, b, (x, y) => x / y),
    (g, [a, b], out) => [
      unbroadcast(
        zipBroadcast(g, b, (gi, y) => gi / y),
        a,
      ),
      unbroadcast(
        zipBroadcast(
          zipBroadcast(g, out, (gi, q) => gi * q),
          b,
          (gq, y) => -gq / y,
        ),
        b,
      ),
    ],
    elementwise(
      ([a, b]) => over(a, b),
      [([, b]) => over(ONE, b), ([a, b]) => negate(over(a, symbol(`${group(b).text}²`, `${group(b).latex}^{2}`)))],
    ),
  ),
  binary(
    "pow",
    "a^b (elementwise power)",
    ([a, b]) => zipBroadcast(a, b, Math.pow),
    // d(a^b)/da = b·a^(b-1) and d(a^b)/db = a^b·ln a, with PyTorch's values where those forms are 0·∞:
    // 0 for da where b = 0 (a^0 is constant), 0 for db where a = 0 and b ≥ 0 (0^b is constant there).
    // db is formed only when b needs a gradient (an exponent that is a parameter), never for x^2.
    (g, [a, b], out, _attrs, needs) => [
      unbroadcast(
        zipBroadcast(
          g,
          zipBroadcast(a, b, (x, y) => (y === 0 ? 0 : y * x ** (y - 1))),
          (gi, d) => gi * d,
        ),
        a,
      ),
      needs[1]
        ? unbroadcast(
            zipBroadcast(
              zipBroadcast(g, out, (gi, o) => gi * o),
              zipBroadcast(a, b, (x, y) => (x === 0 && y >= 0 ? 0 : Math.log(x))),
              (go, ln) => go * ln,
            ),
            b,
          )
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
