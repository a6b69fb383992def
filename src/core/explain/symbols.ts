import type { Graph } from "../graph.js";
import { type Formula, nameToLatex, symbol } from "../ops/formula.js";

/**
 * An unnamed node's formula longer than this is abbreviated wherever it appears: written out in full, each
 * node of a long chain would repeat every node below it, and a derivation of a 3,000-character expression
 * ran to megabytes. Homework formulas are far shorter.
 */
export const SYMBOL_CHARS = 80;

const LATEX_TEXT_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\textbackslash{}",
  "{": "\\{",
  "}": "\\}",
  $: "\\$",
  "&": "\\&",
  "#": "\\#",
  "%": "\\%",
  _: "\\_",
  "^": "\\^{}",
  "~": "\\~{}",
};

/** The start of a long formula, marked as one quantity: ⟨σ(w3 · σ(w2 · …⟩. */
function abbreviated(start: string): Formula {
  const text = `${start.slice(0, SYMBOL_CHARS - 1)}…`;
  const latex = text.replace(/[\\{}$&#%_^~]/g, (c) => LATEX_TEXT_ESCAPES[c]);
  return symbol(`⟨${text}⟩`, `\\langle\\text{${latex}}\\rangle`);
}

/**
 * How each node is written in a derivation: the front end names some (w1, z2, ŷ, L, or the names an
 * expression assigned); a leaf is its own name; any other node is its op applied to its operands' symbols.
 */
export function symbolTable(graph: Graph, named: ReadonlyMap<number, Formula>): Formula[] {
  const table: Formula[] = new Array(graph.nodes.length);
  // The start of each node's formula written out in full: a formula's first characters depend only on the
  // first characters of its operands' formulas, so these stay short, and an abbreviation shows the formula's
  // true start rather than the abbreviations of its operands.
  const starts: Formula[] = new Array(graph.nodes.length);
  for (const node of graph.nodes) {
    const given = named.get(node.index);
    if (given) table[node.index] = starts[node.index] = given;
    else if (node.kind !== "op") table[node.index] = starts[node.index] = symbol(node.name, nameToLatex(node.name));
    else {
      const formula = node.op.math.forward(
        node.inputs.map((i) => starts[i]),
        node.attrs,
      );
      const long = formula.text.length > SYMBOL_CHARS;
      // Short, the formula is whole: every operand's formula was short too. Long, only the start of its text is
      // kept (its LaTeX is never shown: any formula that contains it is long as well).
      table[node.index] = long ? abbreviated(formula.text) : formula;
      starts[node.index] = long
        ? { text: formula.text.slice(0, SYMBOL_CHARS + 1), latex: "", atomic: formula.atomic }
        : formula;
    }
  }
  return table;
}
