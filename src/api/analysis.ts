import type { z } from "zod";
import { checkDefaults, gradientCheck } from "../core/check.js";
import { unitAxis } from "../core/compile/network.js";
import { diagnose } from "../core/diagnostics.js";
import { type ExplainTarget, explain, problemOf, symbolsFor } from "../core/explain/index.js";
import { normChart } from "../core/picture/chart.js";
import { toDot } from "../core/picture/dot.js";
import { dotToSvg } from "../core/picture/render.js";
import type { CompiledProblem, Solution } from "../core/problem.js";
import type { AnalysisOptions, AnalysisResponse } from "./schemas/analysis.js";

export type AnalysisOptionsBody = { [K in keyof typeof AnalysisOptions]?: z.infer<(typeof AnalysisOptions)[K]> };

export const DEFAULT_DIGITS = 4;

/** The first and last parameters whose gradient norms form the vanishing/exploding ratio. */
function compared(target: ExplainTarget): readonly [string, string] | null {
  const parameters = problemOf(target).parameters;
  if (target.kind === "network") {
    const layers = target.network.layers;
    const weight = (i: number) => target.network.graph.nodes[layers[i].weight].name;
    return layers.length > 1 ? [weight(0), weight(layers.length - 1)] : null;
  }
  return parameters.length > 1 ? [parameters[0], parameters[parameters.length - 1]] : null;
}

type AnalysisBody = { [K in keyof typeof AnalysisResponse]: z.infer<(typeof AnalysisResponse)[K]> };

/**
 * Diagnostics always; the explanation and the finite-difference check when asked for. The core's results are
 * read-only structures of the same shape as the response schemas, hence the one cast here.
 */
export function analysis(target: ExplainTarget, solution: Solution, options: AnalysisOptionsBody): AnalysisBody {
  const problem = problemOf(target);
  const digits = options.digits ?? DEFAULT_DIGITS;
  const diagnostics = diagnose(
    problem,
    solution,
    compared(target),
    target.kind === "network" ? unitAxis(target.layout) : null,
  );
  const check =
    options.check === undefined || options.check === false
      ? undefined
      : gradientCheck(problem, solution, { ...checkDefaults, ...(options.check === true ? {} : options.check) });
  return {
    diagnostics,
    ...(options.explain ? { explanation: explain(target, solution, digits) } : {}),
    ...(check ? { check } : {}),
  } as AnalysisBody;
}

export interface Picture {
  readonly contentType: string;
  readonly body: string;
}

/** The computation graph as DOT or SVG, or the chart of gradient norms, for `format`. */
export async function picture(
  target: ExplainTarget,
  solution: Solution,
  format: "svg" | "dot" | "chart",
  digits = DEFAULT_DIGITS,
): Promise<Picture> {
  const problem = problemOf(target);
  if (format === "chart") {
    const { parameters } = diagnose(problem, solution, null, null);
    return { contentType: "image/svg+xml", body: normChart(parameters, "Gradient norm per parameter (log scale)") };
  }
  const dot = toDot(problem, solution, symbolsFor(target), digits);
  if (format === "dot") return { contentType: "text/vnd.graphviz; charset=utf-8", body: dot };
  return { contentType: "image/svg+xml", body: await dotToSvg(dot) };
}

/** Forward passes the finite-difference check adds: two per checked entry. */
export function checkPasses(problem: CompiledProblem, check: AnalysisOptionsBody["check"]): number {
  if (check === undefined || check === false) return 0;
  const most = (check === true ? undefined : check.maxEntries) ?? checkDefaults.maxEntries;
  return problem.parameters.reduce((n, name) => n + 2 * Math.min(problem.feeds.get(name)?.data.length ?? 0, most), 0);
}
