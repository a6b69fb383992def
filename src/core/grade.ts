import { saturated } from "./numerics.js";
import { isScalar, sameShape, shapeText, type Tensor, transpose } from "./tensor.js";

/**
 * When a submitted number counts as right. PrairieLearn's rule: |s - e| ≤ atol + rtol·|e|; or, with
 * significant figures, within half a unit in the last of `digits` significant figures of the expected value.
 */
export type Tolerance = { readonly rtol: number; readonly atol: number } | { readonly digits: number };

/** PrairieLearn's defaults; they accept any answer rounded to 3 significant figures. */
export const defaultTolerance = { rtol: 1e-2, atol: 1e-8 } as const;

export function withinTolerance(submitted: number, expected: number, t: Tolerance): boolean {
  const error = Math.abs(submitted - expected);
  if ("digits" in t) {
    if (expected === 0) return submitted === 0;
    return error <= 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(expected))) - t.digits + 1);
  }
  return error <= t.atol + t.rtol * Math.abs(expected);
}

export interface EntryResult {
  readonly row: number;
  readonly column: number;
  readonly expected: number;
  readonly submitted: number;
  readonly absError: number;
  readonly relError: number;
  readonly correct: boolean;
}

export interface Comparison {
  readonly correct: boolean;
  readonly entries: readonly EntryResult[];
  /** What the mistake looks like, when it has a recognizable form. */
  readonly feedback: readonly string[];
}

function entriesOf(submitted: Tensor, expected: Tensor, t: Tolerance): EntryResult[] {
  const out: EntryResult[] = [];
  for (let k = 0; k < expected.data.length; k++) {
    const e = expected.data[k];
    const s = submitted.data[k];
    // Errors too large for float64 are given as its largest: 1e308 against -1e308 differ by more, and 0.01
    // against an expected 4e-323 is 2.5e320 times too large.
    const absError = saturated(Math.abs(s - e));
    out.push({
      row: Math.floor(k / expected.cols) + 1,
      column: (k % expected.cols) + 1,
      expected: e,
      submitted: s,
      absError,
      relError: saturated(e === 0 ? (absError === 0 ? 0 : absError / Math.abs(s)) : absError / Math.abs(e)),
      correct: withinTolerance(s, e, t),
    });
  }
  return out;
}

/** Whether every entry of `submitted` is within tolerance of f(entry of expected). */
export function matches(submitted: Tensor, expected: Tensor, t: Tolerance): boolean {
  return sameShape(submitted, expected) && expected.data.every((e, k) => withinTolerance(submitted.data[k], e, t));
}

const negated = (x: Tensor): Tensor => ({ ...x, data: x.data.map((v) => -v) });
const where = (r: EntryResult) => `(${r.row}, ${r.column})`;

/**
 * Compares a submitted value with the expected one, entry by entry, and names the mistakes a student makes
 * most: a flipped sign (everywhere or in some entries), a transposed matrix, entries that are slightly off.
 */
export function compare(submitted: Tensor, expected: Tensor, t: Tolerance): Comparison {
  if (!sameShape(submitted, expected)) {
    const transposedFits = matches(submitted, transpose(expected), t);
    return {
      correct: false,
      entries: [],
      feedback: [
        transposedFits
          ? `this is the transpose of the answer: expected ${shapeText(expected)}, got ${shapeText(submitted)}`
          : `expected a ${shapeText(expected)} ${isScalar(expected) ? "number" : "matrix"}, got ${shapeText(submitted)}`,
      ],
    };
  }
  const entries = entriesOf(submitted, expected, t);
  const wrong = entries.filter((e) => !e.correct);
  if (wrong.length === 0) return { correct: true, entries, feedback: [] };
  const feedback: string[] = [];
  const flipped = entriesOf(submitted, negated(expected), t);
  if (matches(submitted, negated(expected), t)) {
    feedback.push(isScalar(expected) ? "the sign is wrong" : "every entry has the wrong sign");
  } else if (!isScalar(expected) && expected.rows === expected.cols && matches(submitted, transpose(expected), t)) {
    feedback.push("this is the transpose of the answer");
  } else {
    const signs = wrong.filter((e) => flipped[(e.row - 1) * expected.cols + (e.column - 1)].correct);
    if (signs.length > 0) feedback.push(`wrong sign at ${signs.map(where).join(", ")}`);
    // In a square matrix, entry (i, j) holding the answer's (j, i) is a transposition slip.
    const square = expected.rows === expected.cols;
    const swapped = square
      ? wrong.filter(
          (e) =>
            !signs.includes(e) &&
            e.row !== e.column &&
            withinTolerance(e.submitted, expected.data[(e.column - 1) * expected.cols + (e.row - 1)], t),
        )
      : [];
    if (swapped.length > 0) {
      feedback.push(
        `${swapped.map(where).join(", ")} ${swapped.length === 1 ? "holds" : "hold"} the transposed entr${swapped.length === 1 ? "y" : "ies"}`,
      );
    }
    for (const e of wrong.filter((w) => !signs.includes(w) && !swapped.includes(w)).slice(0, 5)) {
      feedback.push(
        `${isScalar(expected) ? "" : `entry ${where(e)}: `}expected ${e.expected}, got ${e.submitted} (off by ${Number((e.submitted - e.expected).toPrecision(3))})`,
      );
    }
  }
  return { correct: false, entries, feedback };
}
