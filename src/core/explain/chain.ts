import type { Graph, OpNode } from "../graph.js";
import { type Formula, group, partialName } from "../ops/formula.js";
import type { CompiledProblem, Solution } from "../problem.js";
import { isScalar, scalar, type Tensor } from "../tensor.js";
import { type Rendered, rendered, roundTo } from "./render.js";

export interface Factor {
  /** ∂ŷ/∂z3 */
  readonly name: Rendered;
  /** σ'(z3) */
  readonly formula: Rendered;
  readonly value: number;
  readonly rounded: number;
  /** The product of this factor and every factor before it on the path. */
  readonly product: number;
  readonly productRounded: number;
}

export interface ChainPath {
  readonly factors: readonly Factor[];
  readonly value: number;
  readonly rounded: number;
}

export interface ChainRule {
  readonly kind: "chain-rule";
  readonly gradient: Rendered & { readonly value: number; readonly rounded: number };
  /** Every path from the output down to the parameter; their values sum to the gradient. */
  readonly paths: readonly ChainPath[];
  /**
   * Paths beyond the ones listed (a graph that reuses values has exponentially many), counted up to 2^53 - 1 in
   * all: beyond it a count is no longer exact in float64.
   */
  readonly omittedPaths: number;
  /** The whole derivation in one line, in each rendering. */
  readonly text: string;
  readonly latex: string;
}

/** Enough paths to show every use of a value, few enough to read. */
export const MAX_PATHS = 32;

/**
 * Factors listed over all paths, at most (the first path is listed whole, however long): a path is as long as
 * the graph is deep, so 32 of them through 250 doublings `b2 = sigmoid(b1) + sigmoid(b1)`, … made a 3.7 MB answer.
 */
export const MAX_LISTED_FACTORS = 1024;

interface Edge {
  /** The node that uses the value... */
  readonly user: OpNode;
  /** ...as its operand number k. */
  readonly k: number;
}

/** A use's local partial, as a factor of a path. */
interface Worked {
  readonly name: Formula;
  readonly formula: Formula;
  readonly value: number;
}

/**
 * What every parameter's chain rule shares, found once for all of them: the graph's uses and path counts, in
 * one pass over its nodes and edges (a graph that reuses values has exponentially many paths, which are
 * counted, never walked), and each use's partial, made the first time a path takes it (the paths of a long
 * sum share all but their first few uses).
 */
export interface ChainGraph {
  /**
   * The partial of a use, null where it is identically 1 (the bias's add, an identity activation): such a
   * factor changes nothing and is left out.
   */
  readonly factor: (e: Edge) => Worked | null;
  /** Each node's uses by nodes on a path to the output. */
  readonly uses: readonly (readonly Edge[])[];
  /** How many paths lead from each node to the output, counted up to Number.MAX_SAFE_INTEGER. */
  readonly paths: readonly number[];
  /** Whether a node further down some path from each node holds a matrix or takes one as an operand. */
  readonly matrixBelow: readonly boolean[];
}

export function chainGraph(problem: CompiledProblem, solution: Solution, symbols: readonly Formula[]): ChainGraph {
  const { graph, output } = problem;
  const reaches = reachesOutput(graph, output);
  const uses: Edge[][] = graph.nodes.map(() => []);
  for (const n of graph.nodes) {
    if (n.kind !== "op" || !reaches[n.index]) continue;
    n.inputs.forEach((i, k) => {
      uses[i].push({ user: n, k });
    });
  }
  const scalarAt = (i: number) => isScalar(graph.nodes[i].shape);
  const paths: number[] = new Array(graph.nodes.length).fill(0);
  const matrixBelow: boolean[] = new Array(graph.nodes.length).fill(false);
  paths[output] = 1;
  // Users come after their operands, so one pass from the output back reaches every user before its operands.
  for (let i = output - 1; i >= 0; i--) {
    for (const { user } of uses[i]) {
      paths[i] = Math.min(paths[i] + paths[user.index], Number.MAX_SAFE_INTEGER);
      matrixBelow[i] ||= matrixBelow[user.index] || !scalarAt(user.index) || !user.inputs.every(scalarAt);
    }
  }
  const factors = new Map<Edge, Worked | null>();
  const factor = (e: Edge): Worked | null => {
    let found = factors.get(e);
    if (found === undefined) {
      found = partialOf(e, solution, symbols);
      factors.set(e, found);
    }
    return found;
  };
  return { factor, uses, paths, matrixBelow };
}

/** Known to be 1 from its formula before its value or name is made: a long path is mostly such partials. */
function partialOf(e: Edge, solution: Solution, symbols: readonly Formula[]): Worked | null {
  const operands = e.user.inputs;
  const formula = e.user.op.math.partial(
    e.k,
    operands.map((i) => symbols[i]),
    symbols[e.user.index],
    operands.map((i) => solution.values[i].data[0]),
    e.user.attrs,
  );
  if (formula.text === "1") return null;
  const partials = e.user.op.backward(
    scalar(1),
    operands.map((i) => solution.values[i]),
    solution.values[e.user.index],
    e.user.attrs,
    operands.map(() => true),
  );
  return {
    name: partialName(symbols[e.user.index], symbols[operands[e.k]]),
    formula,
    value: (partials[e.k] as Tensor).data[0],
  };
}

/**
 * Whether every node on a path from `from` to the output, and every operand of those nodes, is 1×1: then the
 * chain rule is a product of numbers.
 */
export function isScalarChain(graph: Graph, chains: ChainGraph, from: number): boolean {
  return isScalar(graph.nodes[from].shape) && !chains.matrixBelow[from];
}

function reachesOutput(graph: Graph, output: number): boolean[] {
  const reaches = new Array(graph.nodes.length).fill(false);
  reaches[output] = true;
  for (let i = output; i >= 0; i--) {
    const n = graph.nodes[i];
    if (reaches[i] && n.kind === "op") for (const k of n.inputs) reaches[k] = true;
  }
  return reaches;
}

/**
 * The chain rule written out for one scalar parameter: the product of local partials along every path from
 * the output down to it, summed over paths. Each partial's number comes from the op's own backward, so the
 * derivation and the gradient are computed by the same code.
 */
export function chainRule(
  problem: CompiledProblem,
  solution: Solution,
  chains: ChainGraph,
  parameter: number,
  symbols: readonly Formula[],
  digits: number,
): ChainRule {
  const { output } = problem;
  // Depth-first over uses, with an explicit stack, until MAX_PATHS paths or MAX_LISTED_FACTORS factors: every
  // use leads to the output, so that takes at most MAX_PATHS walks down the graph.
  // A step links back to the one before it, so that a path is written out only once it reaches the output.
  interface Step {
    readonly at: number;
    readonly edge?: Edge;
    readonly before?: Step;
  }
  const paths: Edge[][] = [];
  let listed = 0;
  const stack: Step[] = [{ at: parameter }];
  while (stack.length > 0 && paths.length < MAX_PATHS) {
    const step = stack.pop() as Step;
    if (step.at === output) {
      const path: Edge[] = [];
      for (let s: Step | undefined = step; s?.edge; s = s.before) path.push(s.edge);
      const factors = path.reduce((n, edge) => n + (chains.factor(edge) === null ? 0 : 1), 0);
      if (paths.length > 0 && listed + factors > MAX_LISTED_FACTORS) break;
      listed += factors;
      paths.push(path.reverse());
      continue;
    }
    for (const edge of chains.uses[step.at]) stack.push({ at: edge.user.index, edge, before: step });
  }

  // Each path's factors from the output down, keeping the formulas to group them in the one-line forms.
  const worked = paths.map((path) =>
    [...path]
      .reverse()
      .map(chains.factor)
      .filter((f): f is Worked => f !== null),
  );
  const chainPaths: ChainPath[] = worked.map((factors) => {
    let product = 1;
    const shown = factors.map((f) => {
      product *= f.value;
      return {
        name: rendered(f.name),
        formula: rendered(f.formula),
        value: f.value,
        rounded: roundTo(f.value, digits),
        product,
        productRounded: roundTo(product, digits),
      };
    });
    return { factors: shown, value: product, rounded: roundTo(product, digits) };
  });

  const gradientValue = solution.grads[parameter]?.data[0] ?? 0;
  const name = partialName(symbols[output], symbols[parameter]);
  const sum = (perPath: (factors: Worked[]) => string[], sep: string) =>
    worked.map((factors) => perPath(factors).join(sep) || "1").join(" + ") || "0";
  const text = [
    name.text,
    sum((fs) => fs.map((f) => f.name.text), " · "),
    sum((fs) => fs.map((f) => group(f.formula).text), " · "),
    sum((fs) => fs.map((f) => `(${roundTo(f.value, digits)})`), " · "),
    String(roundTo(gradientValue, digits)),
  ].join(" = ");
  const latex = [
    name.latex,
    sum((fs) => fs.map((f) => f.name.latex), " \\cdot "),
    sum((fs) => fs.map((f) => group(f.formula).latex), " \\cdot "),
    sum((fs) => fs.map((f) => `(${roundTo(f.value, digits)})`), " \\cdot "),
    String(roundTo(gradientValue, digits)),
  ].join(" = ");

  return {
    kind: "chain-rule",
    gradient: { ...rendered(name), value: gradientValue, rounded: roundTo(gradientValue, digits) },
    paths: chainPaths,
    omittedPaths: chains.paths[parameter] - chainPaths.length,
    text,
    latex,
  };
}
