import { CoreError } from "../errors.js";
import { matmul, matmulTransA, matmulTransB } from "../kernels/matmul.js";
import { shapeText, transpose } from "../tensor.js";
import { compound, type Formula, group, ONE, transposed } from "./formula.js";
import type { OpDef } from "./types.js";

function matrixProduct(a: Formula, b: Formula): Formula {
  return compound(`${group(a).text}·${group(b).text}`, `${group(a).latex} ${group(b).latex}`);
}

export const linalgOps: readonly OpDef[] = [
  {
    name: "matmul",
    category: "linear-algebra",
    description: "A·B (matrix product)",
    operands: ["A", "B"],
    attrs: {},
    shape: ([a, b]) => {
      if (a.cols !== b.rows) {
        throw new CoreError(
          "shape",
          `matrix product ${shapeText(a)} · ${shapeText(b)}: the left operand has ${a.cols} columns but the right one has ${b.rows} rows`,
        );
      }
      return { rows: a.rows, cols: b.cols };
    },
    forward: ([a, b]) => matmul(a, b),
    // C = AB: dA = G·Bᵀ, dB = Aᵀ·G, the transposed operands read in place by the kernels.
    backward: (g, [a, b], _out, _attrs, needs) => [
      needs[0] ? matmulTransB(g, b) : null,
      needs[1] ? matmulTransA(a, g) : null,
    ],
    math: {
      forward: ([a, b]) => compound(`${group(a).text}·${group(b).text}`, `${group(a).latex} ${group(b).latex}`),
      partial: (k, [a, b]) => (k === 0 ? b : a),
      vjp: (k, g, [a, b]) => (k === 0 ? matrixProduct(g, transposed(b)) : matrixProduct(transposed(a), g)),
    },
  },
  {
    name: "transpose",
    category: "linear-algebra",
    description: "Xᵀ",
    operands: ["X"],
    attrs: {},
    shape: ([x]) => ({ rows: x.cols, cols: x.rows }),
    forward: ([x]) => transpose(x),
    backward: (g) => [transpose(g)],
    math: { forward: ([x]) => transposed(x), partial: () => ONE, vjp: (_k, g) => transposed(g) },
  },
];
