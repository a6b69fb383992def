import type { CompiledNetwork, Layout } from "../compile/network.js";
import { type Formula, nameToLatex, symbol } from "../ops/formula.js";
import { type CompiledProblem, leafIndex, type Solution } from "../problem.js";
import { type Backprop, backprop, networkSymbols } from "./backprop.js";
import { type ChainRule, chainGraph, chainRule, isScalarChain } from "./chain.js";
import { symbolTable } from "./symbols.js";
import { type ReverseMode, reverseMode } from "./trace.js";

export interface Explanation {
  readonly digits: number;
  /** The chain rule for every parameter whose whole path to the output is scalar. */
  readonly chainRule: Readonly<Record<string, ChainRule>>;
  /** A layer stack with matrices: the per-layer backward recurrences. */
  readonly backprop?: Backprop;
  /** Any other computation with matrices: the reverse pass, one vector-Jacobian product at a time. */
  readonly reverseMode?: ReverseMode;
}

export type ExplainTarget =
  | { readonly kind: "network"; readonly network: CompiledNetwork; readonly layout: Layout }
  | { readonly kind: "graph"; readonly problem: CompiledProblem; readonly names: ReadonlyMap<string, number> };

export function problemOf(target: ExplainTarget): CompiledProblem {
  return target.kind === "network" ? target.network : target.problem;
}

/** Every node's symbol: the homework's notation for a network, the client's names for an expression. */
export function symbolsFor(target: ExplainTarget): Formula[] {
  const named =
    target.kind === "network"
      ? networkSymbols(target.network)
      : new Map<number, Formula>([...target.names].map(([name, index]) => [index, symbol(name, nameToLatex(name))]));
  return symbolTable(problemOf(target).graph, named);
}

/** Derivations of every parameter's gradient, from the solution the request computed anyway. */
export function explain(target: ExplainTarget, solution: Solution, digits: number): Explanation {
  const problem = problemOf(target);
  const symbols = symbolsFor(target);
  const chain: Record<string, ChainRule> = {};
  const chains = chainGraph(problem, solution, symbols);
  let allScalar = true;
  for (const name of problem.parameters) {
    const index = leafIndex(problem.graph, name);
    if (isScalarChain(problem.graph, chains, index))
      chain[name] = chainRule(problem, solution, chains, index, symbols, digits);
    else allScalar = false;
  }
  if (allScalar) return { digits, chainRule: chain };
  if (target.kind === "network") {
    return { digits, chainRule: {}, backprop: backprop(target.network, target.layout, solution, symbols, digits) };
  }
  return { digits, chainRule: chain, reverseMode: reverseMode(problem, solution, symbols, digits) };
}
