import { fromRows, scalar, type Tensor, toRows } from "../core/tensor.js";
import type { WireValue } from "./schemas/values.js";

/** How a value was written, so that it can be given back the same way. */
export type WireForm = "number" | "list" | "matrix";

/** Which way a flat list stands when it becomes a matrix. */
export type ListOrientation = "row" | "column";

export interface Decoded {
  readonly tensor: Tensor;
  readonly form: WireForm;
}

export function decode(value: WireValue, list: ListOrientation): Decoded {
  if (typeof value === "number") return { tensor: scalar(value), form: "number" };
  if (value.length > 0 && Array.isArray(value[0])) return { tensor: fromRows(value as number[][]), form: "matrix" };
  const entries = value as number[];
  const tensor = fromRows(list === "row" ? [entries] : entries.map((v) => [v]));
  return { tensor, form: "list" };
}

/** A 1×1 value is always a plain number; everything else is an array of rows. */
export function encodeMatrix(t: Tensor): number | number[][] {
  return t.rows === 1 && t.cols === 1 ? t.data[0] : toRows(t);
}

/** As encodeMatrix, except that a value the client sent as a list comes back as a list. */
export function encodeAs(t: Tensor, form: WireForm | undefined): number | number[] | number[][] {
  return form === "list" && !(t.rows === 1 && t.cols === 1) ? Array.from(t.data) : encodeMatrix(t);
}
