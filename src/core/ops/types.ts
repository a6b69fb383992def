import type { Shape, Tensor } from "../tensor.js";
import type { Formula } from "./formula.js";

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
  readonly math: OpMath;
  /** For the catalog: formulas, range and the derivative's extrema (activations, functions, losses). */
  readonly doc?: FunctionDoc;
  /**
   * The second derivative at a point, for the catalog's evaluate: in x for functions of one variable, in the
   * prediction x with the given target for entrywise losses.
   */
  readonly secondDerivative?: (x: number, attrs: Attrs, target: number) => number;
}

/**
 * The op in symbols, for derivations: its value in terms of its operands, the local partial ∂out/∂operand
 * (scalar chains) and the vector-Jacobian product (matrix computations).
 */
export interface OpMath {
  readonly forward: (x: readonly Formula[], attrs: Attrs) => Formula;
  /** `values` are the operands' numbers here, so that a known constant can simplify (bce at y = 1: -1/ŷ). */
  readonly partial: (
    k: number,
    x: readonly Formula[],
    out: Formula,
    values: readonly number[],
    attrs: Attrs,
  ) => Formula;
  readonly vjp: (k: number, g: Formula, x: readonly Formula[], out: Formula, attrs: Attrs) => Formula;
}

/** One piece of a piecewise formula; `value` and `when` are in the expression language. */
export interface Piece {
  readonly value: string;
  readonly when?: string;
}

/**
 * A formula for the catalog. `text` is written in gradserve's own expression language (a piecewise one as
 * "1 if x > 0; 0 otherwise"), so that tests can evaluate it and hold it to the registry's forward and backward.
 */
export interface DocFormula {
  readonly text: string;
  readonly latex: string;
  readonly cases?: readonly Piece[];
}

export interface Extremum {
  /** "unbounded": the derivative grows without bound there (it has no value to state). */
  readonly kind: "maximum" | "minimum" | "supremum" | "infimum" | "unbounded";
  readonly value?: number;
  /** Where: "x = 0", "x > 0", "x → -∞". */
  readonly where: string;
  /** The point where it is reached, when it is reached at one point. */
  readonly at?: number;
}

/** What the catalog says of a function of one variable (x, or the prediction p of a loss with target y). */
export interface FunctionDoc {
  readonly formula: DocFormula;
  readonly derivative: DocFormula;
  readonly secondDerivative?: DocFormula;
  readonly range: string;
  readonly derivativeExtrema: readonly Extremum[];
  /** What the derivative is at a kink, and why. */
  readonly atKink?: string;
}

export function num(attrs: Attrs, key: string): number {
  return attrs[key] as number;
}

export function axis(attrs: Attrs, key = "axis"): 0 | 1 | null {
  return attrs[key] as 0 | 1 | null;
}
