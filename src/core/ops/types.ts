import type { Shape, Tensor } from "../tensor.js";

export type AttrValue = number | string | null;
export type Attrs = Readonly<Record<string, AttrValue>>;

export type AttrSpec =
  | { readonly type: "number"; readonly default: number; readonly description: string }
  | {
      /** 0 reduces over rows (one result per column), 1 over columns, null over everything. */
      readonly type: "axis";
      readonly default: 0 | 1 | null;
      readonly allowAll: boolean;
      readonly description: string;
    }
  | {
      readonly type: "choice";
      readonly values: readonly string[];
      readonly default: string;
      readonly description: string;
    };

/**
 * One differentiable operation: its shape rule, its forward and its vector-Jacobian product side by side.
 * Ops never see where they are used; they throw CoreError without an origin and the graph adds it.
 */
export type OpCategory = "arithmetic" | "linear-algebra" | "reduction" | "function" | "activation" | "loss";

export interface OpDef {
  readonly name: string;
  readonly category: OpCategory;
  readonly description: string;
  /** Names of the operands in order (their count is the arity), as used in messages and documentation. */
  readonly operands: readonly string[];
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  readonly shape: (inputs: readonly Shape[], attrs: Attrs) => Shape;
  readonly forward: (inputs: readonly Tensor[], attrs: Attrs) => Tensor;
  /**
   * Given dL/d(output), returns dL/d(operand) for each operand; null where no gradient flows (class indices).
   * `needs` says which operands want a gradient at all, so that an op may skip costly partials nobody reads.
   */
  readonly backward: (
    grad: Tensor,
    inputs: readonly Tensor[],
    output: Tensor,
    attrs: Attrs,
    needs: readonly boolean[],
  ) => readonly (Tensor | null)[];
}

export function num(attrs: Attrs, key: string): number {
  return attrs[key] as number;
}

export function axis(attrs: Attrs, key = "axis"): 0 | 1 | null {
  return attrs[key] as 0 | 1 | null;
}
