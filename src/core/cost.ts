import type { Graph } from "./graph.js";
import { size } from "./tensor.js";

/**
 * Floating-point operations of one forward and one reverse pass, estimated from shapes alone, before any
 * arithmetic: a matrix product costs 2mkn forward and twice that backward; every other op touches each
 * entry of its operands and result a few times. The estimate is what limits and the worker pool act on.
 */
export function estimateFlops(graph: Graph): number {
  let flops = 0;
  for (const node of graph.nodes) {
    if (node.kind !== "op") continue;
    const [a, b] = node.inputs.map((i) => graph.nodes[i].shape);
    if (node.op.name === "matmul") flops += 3 * 2 * a.rows * a.cols * b.cols;
    else flops += 3 * (node.inputs.reduce((s, i) => s + size(graph.nodes[i].shape), 0) + size(node.shape));
  }
  return flops;
}

/** Numbers held by the graph's leaves: what the request sent. */
export function leafEntries(graph: Graph): number {
  return graph.nodes.reduce((s, n) => s + (n.kind === "op" ? 0 : size(n.shape)), 0);
}
