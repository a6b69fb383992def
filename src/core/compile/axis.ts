import { registry } from "../ops/registry.js";
import { classAxisAttr } from "../ops/softmax.js";
import type { Shape } from "../tensor.js";

/** Whether an op normalizes along a class axis (softmax, log_softmax, cross_entropy). */
export function hasClassAxis(op: string): boolean {
  return registry.get(op)?.attrs.axis === classAxisAttr;
}

/**
 * The class axis an expression or graph gets when it does not say: a column vector (n×1, the way math writes
 * a single sample's scores) is normalized down its column; anything else along its rows, as PyTorch's dim=1.
 */
export function defaultClassAxis(scores: Shape): 0 | 1 {
  return scores.cols === 1 && scores.rows > 1 ? 0 : 1;
}

/** The attributes with the class axis filled in from the scores' shape (the last operand) when not given. */
export function withDefaultClassAxis(
  op: string,
  operands: readonly Shape[],
  attrs: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const scores = operands[operands.length - 1];
  if (!hasClassAxis(op) || attrs.axis !== undefined || !scores) return attrs;
  return { ...attrs, axis: defaultClassAxis(scores) };
}
