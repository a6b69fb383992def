import { saturated } from "./numerics.js";
import type { CompiledProblem, Solution } from "./problem.js";
import { leafGradient } from "./problem.js";
import type { Tensor } from "./tensor.js";

/** The lines drawn between a healthy gradient and a vanishing or exploding one; stated in every response. */
export const healthThresholds = {
  /** The first layer's gradient norm divided by the last layer's: below this, the gradient vanishes. */
  vanishingBelow: 1e-2,
  /** ... and above this, it explodes. */
  explodingAbove: 1e2,
  /** A sigmoid or tanh output this close to a bound counts as saturated. */
  saturationMargin: 1e-3,
} as const;

export interface ParameterHealth {
  readonly parameter: string;
  /** ‖∂L/∂θ‖₂ */
  readonly norm: number;
  readonly maxAbs: number;
}

export interface ActivationHealth {
  readonly node: string;
  readonly activation: string;
  readonly entries: number;
  /** sigmoid and tanh: outputs within the margin of a bound, where the derivative is nearly 0. */
  readonly saturated?: number;
  /** relu: units whose output is 0 for every sample of the batch, so that no gradient reaches their weights. */
  readonly deadUnits?: number;
  readonly units?: number;
}

export interface Diagnostics {
  readonly thresholds: typeof healthThresholds;
  /** In order from the input side to the output side for a network; in the request's order otherwise. */
  readonly parameters: readonly ParameterHealth[];
  /** ‖first‖ / ‖last‖ over the parameters compared (a network's first and last weights); absent when undefined. */
  readonly ratio?: number;
  readonly flag?: "vanishing" | "exploding" | "healthy";
  readonly activations: readonly ActivationHealth[];
}

/**
 * ‖t‖₂, scaled by the largest entry first so that squares of large entries cannot overflow; float64's largest
 * number where the norm itself does (two entries of 1.5e308).
 */
function norm(t: Tensor, largest: number): number {
  if (largest === 0) return 0;
  const d = t.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += (d[i] / largest) * (d[i] / largest);
  return saturated(largest * Math.sqrt(s));
}

function maxAbs(t: Tensor): number {
  const d = t.data;
  let m = 0;
  for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(d[i]));
  return m;
}

/** How many entries lie outside [low, high]. */
function outside(t: Tensor, low: number, high: number): number {
  const d = t.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] < low || d[i] > high) n++;
  return n;
}

/**
 * Gradient health, cheap enough to compute on every request: norms per parameter, the first-to-last ratio
 * with its flag, and saturated or dead activation units.
 * `compare` names the two parameters whose norms form the ratio; `unitAxis` says along which axis a layer's
 * units lie (0: units are rows, samples columns), for counting dead ReLU units.
 */
export function diagnose(
  problem: CompiledProblem,
  solution: Solution,
  compare: readonly [string, string] | null,
  unitAxis: 0 | 1 | null,
): Diagnostics {
  const parameters = problem.parameters.map((name) => {
    const g = leafGradient(problem, solution, name);
    const largest = maxAbs(g);
    return { parameter: name, norm: norm(g, largest), maxAbs: largest };
  });
  const normOf = (name: string) => parameters.find((p) => p.parameter === name)?.norm ?? 0;
  const ratio = compare && normOf(compare[1]) > 0 ? normOf(compare[0]) / normOf(compare[1]) : Number.NaN;
  const flag: Diagnostics["flag"] =
    ratio < healthThresholds.vanishingBelow
      ? "vanishing"
      : ratio > healthThresholds.explodingAbove
        ? "exploding"
        : ratio >= 0
          ? "healthy"
          : undefined;

  const activations: ActivationHealth[] = [];
  for (const node of problem.graph.nodes) {
    if (node.kind !== "op" || !["sigmoid", "tanh", "relu"].includes(node.op.name)) continue;
    const y = solution.values[node.index];
    const entries = y.data.length;
    const m = healthThresholds.saturationMargin;
    if (node.op.name === "sigmoid") {
      const saturated = outside(y, m, 1 - m);
      activations.push({ node: node.name, activation: "sigmoid", entries, saturated });
    } else if (node.op.name === "tanh") {
      const saturated = outside(y, -(1 - m), 1 - m);
      activations.push({ node: node.name, activation: "tanh", entries, saturated });
    } else {
      const units = unitAxis === 0 ? y.rows : unitAxis === 1 ? y.cols : entries;
      let dead = 0;
      for (let u = 0; u < units; u++) {
        const at = (s: number) => (unitAxis === 0 ? u * y.cols + s : unitAxis === 1 ? s * y.cols + u : u);
        const samples = unitAxis === 0 ? y.cols : unitAxis === 1 ? y.rows : 1;
        let alive = false;
        for (let s = 0; s < samples && !alive; s++) alive = y.data[at(s)] !== 0;
        if (!alive) dead++;
      }
      activations.push({ node: node.name, activation: "relu", entries, units, deadUnits: dead });
    }
  }
  const stated = Number.isFinite(ratio) ? { ratio, flag } : flag === "exploding" ? { flag } : {};
  return { thresholds: healthThresholds, parameters, ...stated, activations };
}
