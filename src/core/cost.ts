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

/**
 * What a pass costs beyond its arithmetic, per op node, in floating-point operations' worth of time: each node's
 * value and gradient are allocated, checked for finiteness and handed between ops, which takes about 0.3 µs
 * however small the node (a 1×1 node's arithmetic is a few operations).
 */
export const NODE_PASS_FLOPS = 1000;

/**
 * What a request costs per node once, in the same units: the node is validated, compiled and written into the
 * answer, ~9 µs a node for a graph sent node by node.
 */
export const NODE_REQUEST_FLOPS = 10_000;

/**
 * What a request of `passes` forward and reverse passes costs beyond its arithmetic, in floating-point operations'
 * worth: each node's own cost, so that a graph of many scalar nodes, or one trained for many steps, weighs what it
 * takes, not what its arithmetic (estimateFlops) would.
 */
export function nodeWork(graph: Graph, passes: number): number {
  let ops = 0;
  for (const node of graph.nodes) if (node.kind === "op") ops++;
  return NODE_PASS_FLOPS * ops * passes + NODE_REQUEST_FLOPS * graph.nodes.length;
}

/**
 * The most ops on any path from a leaf to a node: an explanation's paths (explain/chain.ts) are this long, so its
 * size grows with the depth.
 */
export function graphDepth(graph: Graph): number {
  const depth = new Array<number>(graph.nodes.length).fill(0);
  let deepest = 0;
  // Operands come before the nodes that use them.
  for (const node of graph.nodes) {
    if (node.kind !== "op") continue;
    let d = 0;
    for (const i of node.inputs) d = Math.max(d, depth[i]);
    depth[node.index] = d + 1;
    deepest = Math.max(deepest, d + 1);
  }
  return deepest;
}
