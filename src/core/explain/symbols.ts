import type { Graph } from "../graph.js";
import { type Formula, nameToLatex, symbol } from "../ops/formula.js";

/**
 * How each node is written in a derivation: the front end names some (w1, z2, ŷ, L, or the names an
 * expression assigned); a leaf is its own name; any other node is its op applied to its operands' symbols.
 */
export function symbolTable(graph: Graph, named: ReadonlyMap<number, Formula>): Formula[] {
  const table: Formula[] = new Array(graph.nodes.length);
  for (const node of graph.nodes) {
    const given = named.get(node.index);
    if (given) table[node.index] = given;
    else if (node.kind !== "op") table[node.index] = symbol(node.name, nameToLatex(node.name));
    else
      table[node.index] = node.op.math.forward(
        node.inputs.map((i) => table[i]),
        node.attrs,
      );
  }
  return table;
}
