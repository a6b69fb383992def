import { type Formula, ONE, partialName, symbol } from "../ops/formula.js";
import type { CompiledProblem, Solution } from "../problem.js";
import type { Step } from "./backprop.js";
import { numbers, rendered } from "./render.js";

export interface ReverseMode {
  readonly kind: "reverse-mode";
  /** One step per use of a value, from the output down: what flows back through that use. */
  readonly steps: readonly Step[];
  readonly omittedSteps: number;
}

/** Enough steps for any homework graph; a bigger graph is better read as a picture. */
export const MAX_STEPS = 200;

/**
 * The reverse pass written out: for every op from the output down and every operand that needs a gradient,
 * the vector-Jacobian product in symbols with the number it contributed (from the op's own backward).
 * A value used more than once collects several contributions ("+=").
 */
export function reverseMode(
  problem: CompiledProblem,
  solution: Solution,
  symbols: readonly Formula[],
  digits: number,
): ReverseMode {
  const { graph } = problem;
  const flows = (i: number) => solution.grads[i] !== null;
  const uses = new Array(graph.nodes.length).fill(0);
  for (const n of graph.nodes) if (n.kind === "op" && flows(n.index)) for (const i of n.inputs) if (flows(i)) uses[i]++;

  const steps: Step[] = [];
  let total = 0;
  for (let v = problem.output; v >= 0; v--) {
    const node = graph.nodes[v];
    const g = solution.grads[v];
    if (node.kind !== "op" || !g) continue;
    const needs = node.inputs.map(flows);
    if (!needs.some(Boolean)) continue;
    const operands = node.inputs.map((i) => symbols[i]);
    const upstream = v === problem.output ? ONE : partialName(symbols[problem.output], symbols[v]);
    const contributions =
      steps.length < MAX_STEPS
        ? node.op.backward(
            g,
            node.inputs.map((i) => solution.values[i]),
            solution.values[v],
            node.attrs,
            needs,
          )
        : [];
    node.inputs.forEach((u, k) => {
      if (!needs[k]) return;
      total++;
      const c = contributions[k];
      if (!c || steps.length >= MAX_STEPS) return;
      const name = partialName(symbols[problem.output], symbols[u]);
      const vjp = node.op.math.vjp(k, upstream, operands, symbols[v], node.attrs);
      const op = uses[u] > 1 ? "+=" : "=";
      steps.push({
        name: rendered(name),
        formula: rendered(
          symbol(`${name.text} ${op} ${vjp.text}`, `${name.latex} ${op === "+=" ? "\\mathrel{+}=" : "="} ${vjp.latex}`),
        ),
        ...numbers(c, digits),
      });
    });
  }
  return { kind: "reverse-mode", steps, omittedSteps: total - steps.length };
}
