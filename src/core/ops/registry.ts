import { CoreError } from "../errors.js";
import { elementwiseOps } from "./elementwise.js";
import { linalgOps } from "./linalg.js";
import { lossOps } from "./losses.js";
import { reduceOps } from "./reduce.js";
import { softmaxOps } from "./softmax.js";
import type { OpCategory, OpDef } from "./types.js";
import { unaryOps } from "./unary.js";

/** Every op the core knows, by name: the one list that validation, compilers and documentation read. */
export const registry: ReadonlyMap<string, OpDef> = new Map(
  [...elementwiseOps, ...linalgOps, ...reduceOps, ...unaryOps, ...softmaxOps, ...lossOps].map((op) => [op.name, op]),
);

export function opNames(category?: OpCategory): string[] {
  return [...registry.values()].filter((op) => !category || op.category === category).map((op) => op.name);
}

export function getOp(name: string): OpDef {
  const op = registry.get(name);
  if (!op) throw new CoreError("unknown", `unknown operation '${name}'; valid operations: ${opNames().join(", ")}`);
  return op;
}
