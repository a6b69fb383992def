import type { Origin } from "./errors.js";
import { freshState, optimizerDefaults, optimizerStep } from "./optimizers.js";
import { type CompiledProblem, leafGradient, leafIndex, type Solution } from "./problem.js";
import type { Tensor } from "./tensor.js";

/** The parameters' current values and gradients, by name, in the problem's order. */
export function parameterState(problem: CompiledProblem, solution: Solution, feeds = problem.feeds) {
  const values = new Map<string, Tensor>();
  const gradients = new Map<string, Tensor>();
  for (const name of problem.parameters) {
    values.set(name, feeds.get(name) as Tensor);
    gradients.set(name, leafGradient(problem, solution, name));
  }
  return { values, gradients };
}

/**
 * One plain gradient-descent step, θ ← θ - lr·∇θ, for every parameter: the first step of PyTorch's SGD
 * without momentum, through the same optimizer code that POST /v1/train runs.
 */
export function sgdStep(problem: CompiledProblem, solution: Solution, learningRate: number): Map<string, Tensor> {
  const { values, gradients } = parameterState(problem, solution);
  const sgd = { ...optimizerDefaults.sgd, type: "sgd" as const, lr: learningRate };
  return optimizerStep(sgd, freshState, values, gradients, originIn(problem)).parameters;
}

/** Where a parameter came from in the request, for errors about it. */
export function originIn(problem: CompiledProblem): (name: string) => Origin | undefined {
  return (name) => problem.graph.nodes[leafIndex(problem.graph, name)].origin;
}
