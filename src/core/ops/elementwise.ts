import { broadcastShape, unbroadcast, zipBroadcast } from "../broadcast.js";
import { map } from "../tensor.js";
import type { OpDef } from "./types.js";

/**
 * Binary elementwise ops with 2-D broadcasting. Each backward forms the partial at the output's shape
 * (the gradient g always has it) and sums it back to the operand's own shape.
 */
function binary(name: string, description: string, forward: OpDef["forward"], backward: OpDef["backward"]): OpDef {
  return {
    name,
    category: "arithmetic",
    description,
    operands: ["a", "b"],
    attrs: {},
    shape: ([a, b]) => broadcastShape(a, b, name),
    forward,
    backward,
  };
}

export const elementwiseOps: readonly OpDef[] = [
  binary(
    "add",
    "a + b",
    ([a, b]) => zipBroadcast(a, b, (x, y) => x + y),
    (g, [a, b]) => [unbroadcast(g, a), unbroadcast(g, b)],
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
  ),
  binary(
    "pow",
    "a^b (elementwise power)",
    ([a, b]) => zipBroadcast(a, b, Math.pow),
    // d(a^b)/da = b·a^(b-1); d(a^b)/db = a^b·ln a, which is only real for a > 0, so it is formed only when b
    // needs a gradient (an exponent that is a parameter), never for a literal exponent such as x^2.
    (g, [a, b], out, _attrs, needs) => [
      unbroadcast(
        zipBroadcast(
          zipBroadcast(g, b, (gi, y) => gi * y),
          zipBroadcast(a, b, (x, y) => x ** (y - 1)),
          (gy, p) => gy * p,
        ),
        a,
      ),
      needs[1]
        ? unbroadcast(
            zipBroadcast(
              zipBroadcast(g, out, (gi, o) => gi * o),
              a,
              (go, x) => go * Math.log(x),
            ),
            b,
          )
        : null,
    ],
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
  },
];
