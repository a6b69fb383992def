import type { Formula } from "../ops/formula.js";
import type { CompiledProblem, Solution } from "../problem.js";
import { isScalar, shapeText, type Tensor } from "../tensor.js";

/** How an op is drawn in its small oval: the operator where there is one, the op's name otherwise. */
const opLabel: Readonly<Record<string, string>> = {
  add: "+",
  sub: "−",
  mul: "×",
  div: "÷",
  pow: "^",
  neg: "−x",
  matmul: "@",
  transpose: "ᵀ",
  sigmoid: "σ",
  sum: "Σ",
};

/** Shown values: a number to the requested digits, or a matrix's shape and first entries. */
export function formatValue(t: Tensor, digits: number): string {
  const round = (x: number) => String(Number(x.toPrecision(digits)));
  if (isScalar(t)) return round(t.data[0]);
  const shown = Array.from(t.data.subarray(0, 4), round).join(", ");
  return `${shapeText(t)} [${shown}${t.data.length > 4 ? ", …" : ""}]`;
}

function escapeRecord(s: string): string {
  return s.replace(/[\\{}|<>"]/g, (c) => `\\${c}`);
}

function escapeString(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

/**
 * The computation as Graphviz DOT, in the manner of micrograd's draw_dot: a record per value with its data
 * and gradient, and a small oval per operation between its operands and its result.
 */
export function toDot(
  problem: CompiledProblem,
  solution: Solution,
  symbols: readonly Formula[],
  digits: number,
): string {
  const lines = [
    "digraph gradserve {",
    '  graph [rankdir=LR, fontname="Helvetica"];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [color="#555555"];',
  ];
  for (const node of problem.graph.nodes) {
    const g = solution.grads[node.index];
    const fields = [
      escapeRecord(symbols[node.index].text),
      `data ${escapeRecord(formatValue(solution.values[node.index], digits))}`,
      `grad ${g ? escapeRecord(formatValue(g, digits)) : "—"}`,
    ];
    const fill = node.kind === "parameter" ? "#dbeafe" : node.kind === "constant" ? "#f3f4f6" : "#ffffff";
    lines.push(
      `  v${node.index} [shape=record, style=filled, fillcolor="${fill}", label="{ ${fields.join(" | ")} }", tooltip="${escapeString(node.name)}"];`,
    );
    if (node.kind === "op") {
      lines.push(`  op${node.index} [shape=ellipse, label="${escapeString(opLabel[node.op.name] ?? node.op.name)}"];`);
      lines.push(`  op${node.index} -> v${node.index};`);
      for (const i of node.inputs) lines.push(`  v${i} -> op${node.index};`);
    }
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
