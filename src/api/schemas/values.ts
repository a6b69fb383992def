import { z } from "zod";

/**
 * JSON numbers only: JSON.parse turns 1e999 into Infinity, which zod rejects, so every accepted number is
 * finite and the core never starts from a non-finite value.
 */
export const FiniteNumber = z.number({ error: "expected a finite number" });

const entries = (n: number) => (n === 1 ? "1 entry" : `${n} entries`);

/** Rows of equal length: the check that makes an array of arrays a matrix. */
function checkRectangular(rows: number[][], ctx: z.RefinementCtx): void {
  const width = rows[0]?.length ?? 0;
  rows.forEach((row, i) => {
    if (row.length !== width) {
      ctx.addIssue({
        code: "custom",
        path: [i],
        message: `row ${i + 1} has ${entries(row.length)} but row 1 has ${width}: every row of a matrix needs the same length`,
      });
    }
  });
}

const Rows = z
  .array(z.array(FiniteNumber).min(1, "a row needs at least one number"), {
    error: "expected a matrix as an array of rows",
  })
  .min(1, "a matrix needs at least one row")
  .superRefine(checkRectangular);

const FlatList = z
  .array(FiniteNumber, { error: "expected a list of numbers" })
  .min(1, "a list needs at least one number");

export const Matrix = z
  .union([FiniteNumber, Rows], { error: "expected a number or a matrix (an array of rows of numbers)" })
  .meta({
    description: "A matrix as an array of rows (each row an array of numbers), or a plain number for a 1×1 value",
    examples: [
      [
        [0.3, 0.5],
        [-0.2, 0.4],
      ],
      0.25,
    ],
  });

/** A value that may also be a flat list; what the list means (one entry per unit, per sample) is said where it is used. */
export const MatrixOrList = z.union([FiniteNumber, FlatList, Rows], {
  error: "expected a number, a list of numbers, or a matrix (an array of rows of numbers)",
});

export type WireValue = z.infer<typeof MatrixOrList>;

/**
 * A rejected value as an error message can quote it: a short string or number as JSON, anything else by its
 * kind, so that a message never serializes a huge or deeply nested value.
 */
export function quoted(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return Array.isArray(value) ? "an array" : `a value of type ${typeof value}`;
}
