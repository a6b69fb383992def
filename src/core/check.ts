import { evaluate } from "./autodiff.js";
import { CoreError } from "./errors.js";
import { saturated } from "./numerics.js";
import { type CompiledProblem, leafGradient, type Solution } from "./problem.js";
import type { Tensor } from "./tensor.js";

/** torch.autograd.gradcheck's defaults: step 1e-6, and |analytic - numeric| ≤ atol + rtol·|numeric|. */
export const checkDefaults = { eps: 1e-6, atol: 1e-5, rtol: 1e-3, maxEntries: 1000 } as const;

export type CheckOptions = { [K in keyof typeof checkDefaults]: number };

export interface ParameterCheck {
  readonly parameter: string;
  readonly entries: number;
  /** Entries compared; when a parameter has more than maxEntries, an evenly spaced subset. */
  readonly checked: number;
  readonly maxAbsError: number;
  /** |analytic - numeric| / max(|analytic|, |numeric|): at most 2, 0 where both are 0. */
  readonly maxRelError: number;
  /** Entry (row, column; 1-based) where |analytic - numeric| is largest. */
  readonly worst: {
    readonly row: number;
    readonly column: number;
    readonly analytic: number;
    readonly numeric: number;
  };
  /** Entries where the loss could not be evaluated at θ ± h (it left an op's domain). */
  readonly skipped: number;
  readonly pass: boolean;
}

export interface GradientCheck {
  readonly options: CheckOptions;
  readonly parameters: readonly ParameterCheck[];
  readonly pass: boolean;
}

/**
 * Central finite differences for every parameter entry against the analytic gradient, with the step
 * relative to the entry's size (h = eps·max(1, |θ|)), which keeps h above rounding for large entries.
 */
export function gradientCheck(problem: CompiledProblem, solution: Solution, options: CheckOptions): GradientCheck {
  const parameters = problem.parameters.map((name) => checkParameter(problem, solution, name, options));
  return { options, parameters, pass: parameters.every((p) => p.pass) };
}

function checkParameter(problem: CompiledProblem, solution: Solution, name: string, o: CheckOptions): ParameterCheck {
  const value = problem.feeds.get(name) as Tensor;
  const analytic = leafGradient(problem, solution, name);
  const n = value.data.length;
  const stride = Math.max(1, Math.ceil(n / o.maxEntries));
  const feeds = new Map(problem.feeds);
  const loss = (at: number, x: number): number | null => {
    const data = value.data.slice();
    data[at] = x;
    feeds.set(name, { rows: value.rows, cols: value.cols, data });
    try {
      return evaluate(problem.graph, feeds)[problem.output].data[0];
    } catch (e) {
      if (e instanceof CoreError) return null;
      throw e;
    }
  };
  let maxAbs = 0;
  let maxRel = 0;
  let worst = { at: 0, analytic: analytic.data[0], numeric: analytic.data[0] };
  let checked = 0;
  let skipped = 0;
  let pass = true;
  for (let at = 0; at < n; at += stride) {
    const x = value.data[at];
    const h = o.eps * Math.max(1, Math.abs(x));
    const up = loss(at, x + h);
    const down = loss(at, x - h);
    if (up === null || down === null) {
      skipped++;
      continue;
    }
    const numeric = (up - down) / (2 * h);
    // A difference quotient beyond float64 (a loss that jumps from -1e308 to 1e308) estimates nothing.
    if (!Number.isFinite(numeric)) {
      skipped++;
      continue;
    }
    checked++;
    const a = analytic.data[at];
    const abs = saturated(Math.abs(a - numeric));
    const scale = Math.max(Math.abs(numeric), Math.abs(a));
    const rel = scale === 0 ? 0 : abs / scale;
    if (abs > o.atol + o.rtol * Math.abs(numeric)) pass = false;
    if (abs >= maxAbs) {
      maxAbs = abs;
      worst = { at, analytic: a, numeric };
    }
    maxRel = Math.max(maxRel, rel);
  }
  return {
    parameter: name,
    entries: n,
    checked,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    worst: {
      row: Math.floor(worst.at / value.cols) + 1,
      column: (worst.at % value.cols) + 1,
      analytic: worst.analytic,
      numeric: worst.numeric,
    },
    skipped,
    pass: pass && checked > 0,
  };
}
