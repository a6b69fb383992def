import { CoreError } from "./errors.js";
import { type CompiledProblem, leafGradient, leafIndex, type Solution } from "./problem.js";
import { firstNonFinite, type Tensor, zeros } from "./tensor.js";

/** One plain gradient-descent step, θ ← θ - lr·∇θ, for every parameter (PyTorch's SGD without momentum). */
export function sgdStep(problem: CompiledProblem, solution: Solution, learningRate: number): Map<string, Tensor> {
  const updated = new Map<string, Tensor>();
  for (const name of problem.parameters) {
    const value = problem.feeds.get(name) as Tensor;
    const g = leafGradient(problem, solution, name);
    const next = zeros(value.rows, value.cols);
    for (let k = 0; k < next.data.length; k++) next.data[k] = value.data[k] - learningRate * g.data[k];
    if (firstNonFinite(next) >= 0) {
      const node = problem.graph.nodes[leafIndex(problem.graph, name)];
      throw new CoreError("non-finite", `the updated ${name} overflowed float64`, node.origin);
    }
    updated.set(name, next);
  }
  return updated;
}
