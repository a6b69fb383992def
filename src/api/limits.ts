import { type Problem, problem } from "./problems.js";

/** Bounds checked before any work is done, so that no single request can take the service hostage. */
export interface Limits {
  /** Characters of expression text. */
  readonly expressionLength: number;
  /** Nodes of an explicit graph. */
  readonly graphNodes: number;
  /** Optimizer steps of one training request. */
  readonly trainSteps: number;
}

export const defaultLimits: Limits = { expressionLength: 10_000, graphNodes: 10_000, trainSteps: 10_000 };

/** The problem for a value over its limit, naming both, or null when within it. */
export function overLimit(what: string, value: number, limit: number, setting: string, path: string): Problem | null {
  if (value <= limit) return null;
  const message = `${what} is ${value}, over the limit of ${limit} (${setting})`;
  return problem("limit-exceeded", message, [{ path, message }]);
}
