import { evaluate, gradients } from "./autodiff.js";
import type { Graph } from "./graph.js";
import { type Tensor, zeros } from "./tensor.js";

/**
 * What every front end (layer stack, expression, explicit graph) compiles to: one graph, the values of its
 * leaves, and the scalar node being differentiated. Explanations, checks, training and grading work on this.
 */
export interface CompiledProblem {
  readonly graph: Graph;
  readonly feeds: ReadonlyMap<string, Tensor>;
  readonly output: number;
  /** Leaf names of the parameters, in the order the request gave them. */
  readonly parameters: readonly string[];
  /**
   * The nodes whose gradients are wanted: the parameters, and whatever else a front end reports (a network's
   * input, an expression's named values). Nodes that depend on none of them are not differentiated.
   */
  readonly differentiate: ReadonlySet<number>;
}

export interface Solution {
  readonly values: readonly Tensor[];
  readonly grads: readonly (Tensor | null)[];
}

/** One forward and one reverse pass. */
export function solve(problem: CompiledProblem, feeds = problem.feeds): Solution {
  const values = evaluate(problem.graph, feeds);
  return { values, grads: gradients(problem.graph, values, problem.output, problem.differentiate) };
}

/** A leaf's index by name. */
export function leafIndex(graph: Graph, name: string): number {
  const index = graph.leaves.get(name);
  if (index === undefined) throw new RangeError(`no leaf named ${name}`);
  return index;
}

/** d(output)/d(leaf), zero where the output does not depend on it. */
export function leafGradient(problem: CompiledProblem, solution: Solution, name: string): Tensor {
  const index = leafIndex(problem.graph, name);
  const { shape } = problem.graph.nodes[index];
  return solution.grads[index] ?? zeros(shape.rows, shape.cols);
}
