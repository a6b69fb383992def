import { evaluate } from "./autodiff.js";
import { CoreError } from "./errors.js";
import { originIn, parameterState } from "./optimize.js";
import { type OptimizerSpec, type OptimizerState, optimizerStep } from "./optimizers.js";
import { type CompiledProblem, solve } from "./problem.js";
import { type Tensor, zeros } from "./tensor.js";

/**
 * Mini-batches in the data's order: which constants hold the samples, and whether a sample is a row or a
 * column. Step t (counting every step the optimizer has taken) uses batch t mod the number of batches.
 */
export interface Batching {
  readonly size: number;
  readonly over: readonly string[];
  readonly samplesAre: "rows" | "columns";
}

export interface TrainOptions {
  readonly steps: number;
  readonly optimizer: OptimizerSpec;
  readonly state: OptimizerState;
  readonly batching?: Batching;
  /** Keep the parameters after every step. */
  readonly history: boolean;
}

export interface TrainResult {
  /** The loss at each step, before that step's update, on that step's batch. */
  readonly losses: number[];
  readonly parameters: Map<string, Tensor>;
  readonly history?: Map<string, Tensor>[];
  readonly state: OptimizerState;
  /** The loss at the final parameters on all the data. */
  readonly finalLoss: number;
}

/** Samples from..to (exclusive) of a matrix whose samples are its rows or its columns. */
function slice(t: Tensor, from: number, to: number, samplesAre: Batching["samplesAre"]): Tensor {
  if (samplesAre === "rows") return { rows: to - from, cols: t.cols, data: t.data.slice(from * t.cols, to * t.cols) };
  const out = zeros(t.rows, to - from);
  for (let i = 0; i < t.rows; i++) out.data.set(t.data.subarray(i * t.cols + from, i * t.cols + to), i * (to - from));
  return out;
}

/** The constants of every mini-batch: batch k covers samples k·size up to (k+1)·size, the last one shorter. */
function batches(full: CompiledProblem, b: Batching): Map<string, Tensor>[] {
  const count = (t: Tensor) => (b.samplesAre === "rows" ? t.rows : t.cols);
  const data = b.over.map((name) => {
    const t = full.feeds.get(name);
    if (!t || full.parameters.includes(name)) {
      throw new CoreError("unknown", `batching is over constants, and '${name}' is not one`);
    }
    return [name, t] as const;
  });
  const n = count(data[0][1]);
  for (const [name, t] of data) {
    if (count(t) !== n) {
      throw new CoreError(
        "shape",
        `mini-batches split ${data.map(([m]) => m).join(" and ")} into samples (${b.samplesAre}), but '${name}' has ${count(t)} ${b.samplesAre} and '${data[0][0]}' has ${n}`,
      );
    }
  }
  const out: Map<string, Tensor>[] = [];
  for (let from = 0; from < n; from += b.size) {
    const to = Math.min(n, from + b.size);
    out.push(new Map(data.map(([name, t]) => [name, slice(t, from, to, b.samplesAre)])));
  }
  return out;
}

/**
 * Steps of an optimizer over one compiled problem: each step evaluates the loss and its gradients at the
 * current parameters on the next mini-batch (cycling in order), then updates every parameter. `rebuild`
 * compiles the same problem with other constants (a mini-batch); it is called once per distinct batch.
 */
export function train(
  full: CompiledProblem,
  rebuild: (constants: ReadonlyMap<string, Tensor>) => CompiledProblem,
  options: TrainOptions,
): TrainResult {
  const plan = options.batching ? batches(full, options.batching) : [];
  const compiled = new Map<number, CompiledProblem>();
  // Batches follow the optimizer's own step count, so that a run continued from its state carries on with
  // the batch after the last one it used.
  const problemFor = (step: number): CompiledProblem => {
    if (plan.length <= 1) return full;
    const k = (options.state.step + step) % plan.length;
    let p = compiled.get(k);
    if (!p) {
      p = rebuild(plan[k]);
      compiled.set(k, p);
    }
    return p;
  };

  let parameters = new Map(full.parameters.map((name) => [name, full.feeds.get(name) as Tensor]));
  let state = options.state;
  const losses: number[] = [];
  const history: Map<string, Tensor>[] = [];
  for (let step = 0; step < options.steps; step++) {
    const problem = problemFor(step);
    const feeds = new Map(problem.feeds);
    for (const [name, value] of parameters) feeds.set(name, value);
    const solution = solve(problem, feeds);
    losses.push(solution.values[problem.output].data[0]);
    const { gradients } = parameterState(problem, solution, feeds);
    ({ parameters, state } = optimizerStep(options.optimizer, state, parameters, gradients, originIn(problem)));
    if (options.history) history.push(parameters);
  }
  const feeds = new Map(full.feeds);
  for (const [name, value] of parameters) feeds.set(name, value);
  const finalLoss = evaluate(full.graph, feeds)[full.output].data[0];
  return { losses, parameters, ...(options.history ? { history } : {}), state, finalLoss };
}
