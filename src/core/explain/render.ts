import type { Formula } from "../ops/formula.js";
import { isScalar, type Tensor, toRows } from "../tensor.js";

/** Text and LaTeX of one formula, without the internal bookkeeping. */
export interface Rendered {
  readonly text: string;
  readonly latex: string;
}

/** A number (or matrix) at full precision and rounded to the requested significant digits. */
export interface Numbers {
  readonly value: number | number[][];
  readonly rounded: number | number[][];
}

export function rendered(f: Formula): Rendered {
  return { text: f.text, latex: f.latex };
}

export function roundTo(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

export function numbers(t: Tensor, digits: number): Numbers {
  if (isScalar(t)) return { value: t.data[0], rounded: roundTo(t.data[0], digits) };
  const rows = toRows(t);
  return { value: rows, rounded: rows.map((r) => r.map((x) => roundTo(x, digits))) };
}
