import { CoreError } from "./errors.js";
import { type Graph, type GraphNode, locate } from "./graph.js";
import { firstNonFinite, isScalar, sameShape, shapeText, type Tensor } from "./tensor.js";

/** Values of a graph's leaves by name: parameters and constants alike. */
export type Feeds = ReadonlyMap<string, Tensor>;

/** The forward pass: the value of every node, in node order. */
export function evaluate(graph: Graph, feeds: Feeds): Tensor[] {
  const values: Tensor[] = new Array(graph.nodes.length);
  for (const node of graph.nodes) {
    if (node.kind !== "op") {
      values[node.index] = feed(node, feeds);
      continue;
    }
    let value: Tensor;
    try {
      value = node.op.forward(
        node.inputs.map((i) => values[i]),
        node.attrs,
      );
    } catch (e) {
      throw locate(e, node.name, node.origin);
    }
    assertFinite(value, node, `${node.name} (${node.op.name})`);
    values[node.index] = value;
  }
  return values;
}

function feed(node: GraphNode, feeds: Feeds): Tensor {
  const value = feeds.get(node.name);
  if (!value) throw new CoreError("unknown", `no value was given for '${node.name}'`, node.origin);
  if (!sameShape(value, node.shape)) {
    throw new CoreError(
      "shape",
      `'${node.name}' was declared ${shapeText(node.shape)} but given a ${shapeText(value)} value`,
      node.origin,
    );
  }
  return value;
}

/** Which nodes are in `wrt` or depend on one that is (with no `wrt`, every node that depends on a leaf). */
function dependsOn(graph: Graph, wrt: ReadonlySet<number> | undefined): boolean[] {
  const live: boolean[] = new Array(graph.nodes.length);
  for (const node of graph.nodes) {
    const seed = wrt ? wrt.has(node.index) : node.kind !== "op";
    live[node.index] = seed || (node.kind === "op" && node.inputs.some((k) => live[k]));
  }
  return live;
}

/**
 * The reverse pass: d(output)/d(node) for every node in `wrt` or depending on one (without `wrt`, on any
 * leaf, constants included), null for the others and where the output does not depend on the node.
 * Passing the parameters as `wrt` (as solve() does) keeps literal constants and targets from being
 * differentiated, which saves work and keeps partials such as d(a^b)/db = a^b·ln a from being formed
 * where they are not real.
 * One loop from the output down to the leaves, so depth is bounded by memory, not by the call stack;
 * a node used several times sums the gradients of all its uses.
 */
export function gradients(
  graph: Graph,
  values: readonly Tensor[],
  output: number,
  wrt?: ReadonlySet<number>,
): (Tensor | null)[] {
  const out = graph.nodes[output];
  if (!out) throw new RangeError(`no node ${output}`);
  if (!isScalar(out.shape)) {
    throw new CoreError(
      "shape",
      `the output '${out.name}' is ${shapeText(out.shape)}, but gradients need a scalar output: reduce it with sum(...) or a loss`,
      out.origin,
    );
  }
  const grads: (Tensor | null)[] = new Array(graph.nodes.length).fill(null);
  // A gradient handed over by a backward may be shared with another operand (add passes g to both),
  // so it is copied before the first in-place accumulation.
  const owned: boolean[] = new Array(graph.nodes.length).fill(false);
  const live = dependsOn(graph, wrt);
  if (live[output]) grads[output] = { rows: 1, cols: 1, data: Float64Array.of(1) };
  for (let i = output; i >= 0; i--) {
    const node = graph.nodes[i];
    const g = grads[i];
    if (!g) continue;
    if (owned[i]) assertFinite(g, node, `the gradient of '${node.name}'`);
    if (node.kind !== "op") continue;
    let partials: readonly (Tensor | null)[];
    try {
      partials = node.op.backward(
        g,
        node.inputs.map((k) => values[k]),
        values[i],
        node.attrs,
        node.inputs.map((k) => live[k]),
      );
    } catch (e) {
      throw locate(e, node.name, node.origin);
    }
    node.inputs.forEach((k, position) => {
      const p = partials[position];
      if (!p || !live[k]) return;
      const target = graph.nodes[k];
      assertFinite(p, target, `the gradient of '${target.name}' (through ${node.op.name} in ${node.name})`);
      const acc = grads[k];
      if (!acc) {
        grads[k] = p;
        return;
      }
      if (!owned[k]) {
        grads[k] = { rows: acc.rows, cols: acc.cols, data: acc.data.slice() };
        owned[k] = true;
      }
      const d = (grads[k] as Tensor).data;
      for (let e = 0; e < d.length; e++) d[e] += p.data[e];
    });
  }
  return grads;
}

function assertFinite(t: Tensor, node: GraphNode, what: string): void {
  const k = firstNonFinite(t);
  if (k < 0) return;
  const entry = isScalar(t) ? "" : ` at entry (${Math.floor(k / t.cols) + 1}, ${(k % t.cols) + 1})`;
  throw new CoreError(
    "non-finite",
    `${what} is ${t.data[k]}${entry}: the computation overflowed or left its domain in float64`,
    node.origin,
  );
}
