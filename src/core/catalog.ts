import { CoreError } from "./errors.js";
import { resolveAttrs } from "./graph.js";
import { registry } from "./ops/registry.js";
import type { AttrSpec, FunctionDoc, OpCategory, OpDef } from "./ops/types.js";
import { firstNonFinite, fromRows, scalar, type Tensor } from "./tensor.js";

export interface CatalogEntry extends FunctionDoc {
  readonly name: string;
  readonly category: OpCategory;
  readonly description: string;
  readonly operands: readonly string[];
  readonly attributes: readonly ({ readonly name: string } & AttrSpec)[];
  /** Whether POST /v1/functions/{name}/evaluate takes it (elementwise functions and entrywise losses). */
  readonly evaluable: boolean;
}

/** Every activation, function and loss of the registry, as documented beside its code: no second list. */
export function catalog(): CatalogEntry[] {
  return [...registry.values()].flatMap((op) =>
    op.doc
      ? [
          {
            name: op.name,
            category: op.category,
            description: op.description,
            operands: op.operands,
            attributes: Object.entries(op.attrs).map(([name, spec]) => ({ name, ...spec })),
            evaluable: op.secondDerivative !== undefined,
            ...op.doc,
          },
        ]
      : [],
  );
}

export interface Evaluation {
  readonly f: number[];
  readonly df: number[];
  readonly d2f: number[];
}

/**
 * f, f' and f'' at each point, through the registry's own forward, backward and second derivative; for a
 * loss the point is the prediction and `target` the target.
 */
export function evaluateFunction(
  name: string,
  points: readonly number[],
  givenAttrs: Readonly<Record<string, unknown>>,
  target: number,
): Evaluation {
  const op = registry.get(name);
  if (!op?.doc) {
    const known = catalog()
      .filter((e) => e.evaluable)
      .map((e) => e.name);
    throw new CoreError("unknown", `'${name}' is not a function that can be evaluated; these can: ${known.join(", ")}`);
  }
  if (!op.secondDerivative) {
    throw new CoreError(
      "unknown",
      `${name} is not elementwise (it maps vectors to vectors), so it has no f, f', f'' at a point`,
    );
  }
  const attrs = resolveAttrs(op, op.category === "loss" ? { ...givenAttrs, reduction: "sum" } : givenAttrs);
  const isLoss = op.category === "loss";
  if (isLoss) {
    // A target outside the loss's domain is the target's fault, whatever the points: try it at a harmless one.
    try {
      op.forward([scalar(target), scalar(0.5)], attrs);
    } catch (e) {
      throw e instanceof CoreError ? new CoreError(e.kind, e.message, { path: ["target"] }) : e;
    }
  }
  const at = (p: number) => (isLoss ? [scalar(target), scalar(p)] : [scalar(p)]);
  const f: number[] = [];
  const df: number[] = [];
  const d2f: number[] = [];
  for (const [i, p] of points.entries()) {
    const inputs = at(p);
    let y: Tensor;
    try {
      y = op.forward(inputs, attrs);
    } catch (e) {
      throw e instanceof CoreError ? new CoreError(e.kind, e.message, { path: ["points", i] }) : e;
    }
    const slope = op.backward(
      scalar(1),
      inputs,
      y,
      attrs,
      inputs.map(() => true),
    )[isLoss ? 1 : 0] as Tensor;
    const curvature = (op as Required<OpDef>).secondDerivative(p, attrs, target);
    const row = fromRows([[y.data[0], slope.data[0], curvature]]);
    const bad = firstNonFinite(row);
    if (bad >= 0) {
      const which = ["f", "f'", "f''"][bad];
      throw new CoreError(
        "non-finite",
        `${which} of ${name} at ${p} is ${row.data[bad]}: the point is outside its domain`,
        {
          path: ["points", i],
        },
      );
    }
    f.push(y.data[0]);
    df.push(slope.data[0]);
    d2f.push(curvature);
  }
  return { f, df, d2f };
}
