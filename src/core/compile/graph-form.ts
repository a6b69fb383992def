import { CoreError } from "../errors.js";
import { withDefaultClassAxis } from "./axis.js";
import { ProblemBuilder } from "./builder.js";
import { type Bindings, bindLeaves, type CompiledExpression } from "./expression.js";

export interface GraphFormNode {
  readonly id: string;
  readonly op: string;
  /** Names of parameters, constants or other nodes; a number stands for itself. */
  readonly inputs: readonly (string | number)[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Compiles an explicit graph, given as nodes in any order, onto the core graph: nodes are placed after their
 * inputs (Kahn's algorithm, no recursion), and a cycle or a dangling input is named before anything is built.
 */
export function compileGraphForm(
  nodes: readonly GraphFormNode[],
  output: string,
  bindings: Bindings,
): CompiledExpression {
  const path = (i: number) => ({ path: ["graph", "nodes", i] });
  const byId = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (byId.has(n.id)) throw new CoreError("structure", `the node id '${n.id}' is used twice`, path(i));
    if (bindings.parameters.has(n.id) || bindings.constants.has(n.id)) {
      throw new CoreError("structure", `the node id '${n.id}' is also the name of a parameter or constant`, path(i));
    }
    byId.set(n.id, i);
  });

  const users: number[][] = nodes.map(() => []);
  const waiting = nodes.map((n, i) => {
    let count = 0;
    for (const input of n.inputs) {
      if (typeof input === "number" || bindings.parameters.has(input) || bindings.constants.has(input)) continue;
      const from = byId.get(input);
      if (from === undefined) {
        const known = [...bindings.parameters.keys(), ...bindings.constants.keys(), ...byId.keys()];
        throw new CoreError(
          "unknown",
          `node '${n.id}': its input '${input}' is not a parameter, a constant or a node; known names: ${known.join(", ")}`,
          path(i),
        );
      }
      users[from].push(i);
      count++;
    }
    return count;
  });
  const order: number[] = [];
  const ready = nodes.flatMap((_, i) => (waiting[i] === 0 ? [i] : []));
  while (ready.length > 0) {
    const i = ready.pop() as number;
    order.push(i);
    for (const u of users[i]) if (--waiting[u] === 0) ready.push(u);
  }
  if (order.length < nodes.length) throw cycleError(nodes, byId, waiting);
  if (!byId.has(output)) {
    throw new CoreError(
      "unknown",
      `the output '${output}' is not a node id; node ids: ${[...byId.keys()].join(", ")}`,
      {
        path: ["graph", "output"],
      },
    );
  }

  const p = new ProblemBuilder();
  const scope = bindLeaves(p, bindings);
  const named = new Map<string, number>();
  for (const i of order) {
    const n = nodes[i];
    const inputs = n.inputs.map((input) =>
      typeof input === "number" ? p.literal(input) : (scope.get(input) as number),
    );
    const index = p.graph.apply(n.op, inputs, {
      name: n.id,
      origin: path(i),
      attrs: withDefaultClassAxis(
        n.op,
        inputs.map((k) => p.graph.node(k).shape),
        n.attrs,
      ),
    });
    scope.set(n.id, index);
    named.set(n.id, index);
  }
  // Report nodes in the order the client listed them, not the order they were computed in.
  const listed = new Map(nodes.map((n) => [n.id, named.get(n.id) as number]));
  return { ...p.finish(listed.get(output) as number, listed.values()), named: listed };
}

/** Follows unfinished inputs from a node that never became ready until a node repeats: that loop is the cycle. */
function cycleError(nodes: readonly GraphFormNode[], byId: ReadonlyMap<string, number>, waiting: number[]): CoreError {
  const stuck = (i: number) => waiting[i] > 0;
  let at = waiting.findIndex((w) => w > 0);
  const seen: number[] = [];
  while (!seen.includes(at)) {
    seen.push(at);
    const next = nodes[at].inputs.find((x) => typeof x === "string" && byId.has(x) && stuck(byId.get(x) as number));
    at = byId.get(next as string) as number;
  }
  const loop = [...seen.slice(seen.indexOf(at)), at].reverse().map((i) => nodes[i].id);
  return new CoreError("structure", `the graph has a cycle: ${loop.join(" → ")}`, {
    path: ["graph", "nodes", byId.get(loop[0]) as number],
  });
}
