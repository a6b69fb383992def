import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/core/autodiff.js";
import { type CatalogEntry, catalog, evaluateFunction } from "../../src/core/catalog.js";
import { compileExpression } from "../../src/core/compile/expression.js";
import { CoreError } from "../../src/core/errors.js";
import { resolveAttrs } from "../../src/core/graph.js";
import { registry } from "../../src/core/ops/registry.js";
import type { DocFormula, OpDef } from "../../src/core/ops/types.js";
import { scalar, type Tensor } from "../../src/core/tensor.js";

/** f(x) for a function; ℓ(y, p) for a loss, with x standing for the prediction p. */
type Scalar2 = (x: number, y: number) => number;

const entries = catalog();
const evaluable = entries.filter((e) => e.evaluable);
const isLoss = (e: CatalogEntry) => e.category === "loss";

/** Where a piece of a piecewise formula applies: the conditions the catalog uses, and "otherwise". */
function condition(when: string | undefined): (x: number) => boolean {
  if (when === undefined) return () => true;
  if (when === "x > 0") return (x) => x > 0;
  if (when === "x < 0") return (x) => x < 0;
  throw new Error(`a condition the test does not know: ${when}`);
}

/**
 * A catalog formula as a function, through gradserve's own expression compiler: x (or p and y for a loss)
 * and the number attributes (slope, alpha) at their defaults are constants of the expression.
 */
function formulaOf(entry: CatalogEntry, formula: DocFormula): Scalar2 {
  const variable = isLoss(entry) ? "p" : "x";
  const attributes = entry.attributes.flatMap((a) =>
    a.type === "number" ? [[a.name, scalar(a.default as number)] as const] : [],
  );
  const compile = (text: string): Scalar2 => {
    const constants = new Map<string, Tensor>([[variable, scalar(0)], ["y", scalar(0)], ...attributes]);
    if (!isLoss(entry)) constants.delete("y");
    const compiled = compileExpression(text, { parameters: new Map(), constants });
    return (x, y) => {
      const feeds = new Map(compiled.feeds);
      feeds.set(variable, scalar(x));
      if (isLoss(entry)) feeds.set("y", scalar(y));
      return evaluate(compiled.graph, feeds)[compiled.output].data[0];
    };
  };
  if (!formula.cases) return compile(formula.text);
  const pieces = formula.cases.map((c) => ({ holds: condition(c.when), at: compile(c.value) }));
  expect(formula.cases[formula.cases.length - 1].when, `${entry.name}: "otherwise" comes last`).toBeUndefined();
  return (x, y) => (pieces.find((p) => p.holds(x)) as (typeof pieces)[number]).at(x, y);
}

/** The registry's own f, f' (the backward) and f'' for one op, with a loss summed over its one entry. */
function registryOf(op: OpDef): { f: Scalar2; df: Scalar2; d2f: Scalar2 } {
  const loss = op.category === "loss";
  const attrs = resolveAttrs(op, loss ? { reduction: "sum" } : {});
  const inputs = (x: number, y: number) => (loss ? [scalar(y), scalar(x)] : [scalar(x)]);
  return {
    f: (x, y) => op.forward(inputs(x, y), attrs).data[0],
    df: (x, y) => {
      const at = inputs(x, y);
      const out = op.forward(at, attrs);
      const grads = op.backward(
        scalar(1),
        at,
        out,
        attrs,
        at.map(() => true),
      );
      return (grads[loss ? 1 : 0] as Tensor).data[0];
    },
    d2f: (x, y) => (op.secondDerivative as NonNullable<OpDef["secondDerivative"]>)(x, attrs, y),
  };
}

// Points in binary fractions from -4 to 4, a few others, and small positive ones for log and sqrt.
const grid = [...Array.from({ length: 65 }, (_, i) => -4 + i / 8), ...[-2.9, -1.7, -0.3, 0.3, 1.7, 2.9, 0.01, 0.05]];
// Predictions: the grid without 0 and 1, where bce's clamped logs (its documented kink) replace the formula,
// and more points inside (0, 1). Targets: probabilities and other numbers; pairs outside a loss's domain drop out.
const predictions = [...grid.filter((p) => p !== 0 && p !== 1), 0.3, 0.7, 0.95, 0.99];
const targets = [0, 0.3, 1, -0.5, 2.25];

/** The points where the registry gives finite f, f', f'' (for a loss, (p, y) pairs inside its domain). */
function pointsOf(entry: CatalogEntry): [number, number][] {
  const op = registry.get(entry.name) as OpDef;
  const ref = registryOf(op);
  const candidates: [number, number][] = isLoss(entry)
    ? predictions.flatMap((p) => targets.map((y) => [p, y] as [number, number]))
    : grid.map((x) => [x, 0]);
  return candidates.filter(([x, y]) => {
    try {
      return [ref.f(x, y), ref.df(x, y), ref.d2f(x, y)].every(Number.isFinite);
    } catch (e) {
      if (e instanceof CoreError) return false;
      throw e;
    }
  });
}

function close(got: number, want: number, what: string, rel = 1e-12, abs = 1e-15): void {
  if (!(Math.abs(got - want) <= rel * Math.abs(want) + abs)) {
    expect.fail(`${what}: got ${got}, expected ${want}`);
  }
}

describe("the catalog is the registry's documentation", () => {
  it("lists exactly the registry ops that have a doc, in registry order", () => {
    const documented = [...registry.values()].filter((op) => op.doc).map((op) => op.name);
    expect(entries.map((e) => e.name)).toEqual(documented);
    expect(documented.length).toBeGreaterThan(10);
  });

  it.each(entries.map((e) => [e.name, e] as const))("%s has its formulas, range and extrema", (_, e) => {
    const op = registry.get(e.name) as OpDef;
    expect(e.formula.text.length).toBeGreaterThan(0);
    expect(e.formula.latex.length).toBeGreaterThan(0);
    expect(e.derivative.text.length).toBeGreaterThan(0);
    expect(e.derivative.latex.length).toBeGreaterThan(0);
    expect(typeof e.range).toBe("string");
    expect(Array.isArray(e.derivativeExtrema)).toBe(true);
    expect(e.category).toBe(op.category);
    expect(e.operands).toEqual(op.operands);
    expect(e.attributes.map((a) => a.name)).toEqual(Object.keys(op.attrs));
    // Evaluable exactly when the registry has a second derivative, and then the catalog has its formula.
    expect(e.evaluable).toBe(op.secondDerivative !== undefined);
    if (e.evaluable) expect(e.secondDerivative).toBeDefined();
  });

  it("states σ' has its maximum 0.25 at x = 0, tanh' its maximum 1 at 0, and relu'(0) = 0", () => {
    const byName = (name: string) => entries.find((e) => e.name === name) as CatalogEntry;
    expect(byName("sigmoid").derivativeExtrema).toContainEqual({ kind: "maximum", value: 0.25, where: "x = 0", at: 0 });
    expect(byName("tanh").derivativeExtrema).toContainEqual({ kind: "maximum", value: 1, where: "x = 0", at: 0 });
    expect(byName("relu").atKink).toContain("relu'(0) = 0");
    expect(registryOf(registry.get("relu") as OpDef).df(0, 0)).toBe(0);
  });

  it("has softmax and cross_entropy, which are not elementwise, as not evaluable", () => {
    expect(entries.filter((e) => !e.evaluable).map((e) => e.name)).toEqual(["softmax", "cross_entropy"]);
  });
});

describe.each(evaluable.map((e) => [e.name, e] as const))(
  "%s: the catalog's formulas against the registry",
  (_, entry) => {
    const op = registry.get(entry.name) as OpDef;
    const ref = registryOf(op);
    const points = pointsOf(entry);

    it("has enough points in its domain", () => {
      expect(points.length).toBeGreaterThanOrEqual(isLoss(entry) ? 40 : 30);
    });

    it("formula = forward, derivative = backward, secondDerivative = secondDerivative", () => {
      const f = formulaOf(entry, entry.formula);
      const df = formulaOf(entry, entry.derivative);
      const d2f = formulaOf(entry, entry.secondDerivative as DocFormula);
      for (const [x, y] of points) {
        const at = isLoss(entry) ? `p = ${x}, y = ${y}` : `x = ${x}`;
        close(f(x, y), ref.f(x, y), `f at ${at}`);
        close(df(x, y), ref.df(x, y), `f' at ${at}`);
        close(d2f(x, y), ref.d2f(x, y), `f'' at ${at}`);
      }
    });

    it("secondDerivative = central differences of the backward", () => {
      const kinked = entry.derivative.cases !== undefined;
      let compared = 0;
      for (const [x, y] of points) {
        const h = 1e-5 * Math.max(Math.abs(x), 0.01);
        // A piecewise derivative jumps at 0; a difference across the jump says nothing about f''.
        if (kinked && Math.abs(x) <= 2 * h) continue;
        let up: number;
        let down: number;
        try {
          up = ref.df(x + h, y);
          down = ref.df(x - h, y);
        } catch {
          continue;
        }
        if (!Number.isFinite(up) || !Number.isFinite(down)) continue;
        const numeric = (up - down) / (2 * h);
        const exact = ref.d2f(x, y);
        if (!(Math.abs(numeric - exact) <= 1e-6 * Math.max(1, Math.abs(exact)))) {
          expect.fail(`f'' at ${x} (y = ${y}): ${exact}, central difference ${numeric}`);
        }
        compared++;
      }
      expect(compared).toBeGreaterThan(points.length / 2);
    });

    it("derivativeExtrema: the value at `at`, and no grid point beyond a bound", () => {
      const slopes = points.map(([x, y]) => ref.df(x, y));
      const doc = formulaOf(entry, entry.derivative);
      for (const e of entry.derivativeExtrema) {
        if (e.kind === "unbounded") {
          expect(e.value).toBeUndefined();
          continue;
        }
        const value = e.value as number;
        if (e.at !== undefined) {
          close(ref.df(e.at, 1), value, `f'(${e.at})`);
          close(doc(e.at, 1), value, `the documented f'(${e.at})`);
        }
        if (e.kind === "maximum" || e.kind === "supremum") {
          expect(Math.max(...slopes), `${e.kind} ${value}`).toBeLessThanOrEqual(value + 1e-12);
        } else {
          expect(Math.min(...slopes), `${e.kind} ${value}`).toBeGreaterThanOrEqual(value - 1e-12);
        }
        // A maximum or minimum is reached, so the grid (which has 0 and points on either side) reaches it.
        if (e.kind === "maximum" || e.kind === "minimum") {
          expect(slopes.some((s) => Math.abs(s - value) <= 1e-12)).toBe(true);
        }
      }
    });

    it("evaluateFunction gives the registry's f, f', f'' at every point", () => {
      const target = isLoss(entry) ? points[0][1] : 1;
      const at = points.filter(([, y]) => !isLoss(entry) || y === target).map(([x]) => x);
      const result = evaluateFunction(entry.name, at, {}, target);
      expect(result).toEqual({
        f: at.map((x) => ref.f(x, target)),
        df: at.map((x) => ref.df(x, target)),
        d2f: at.map((x) => ref.d2f(x, target)),
      });
    });
  },
);
