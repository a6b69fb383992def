import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/core/autodiff.js";
import { compileNetwork, type Layout, type NetworkSpec } from "../../src/core/compile/network.js";
import { CoreError } from "../../src/core/errors.js";
import { opNames, registry } from "../../src/core/ops/registry.js";
import { leafGradient, leafIndex, solve } from "../../src/core/problem.js";
import { type Tensor, zeros } from "../../src/core/tensor.js";

const H = 1e-6;
const close = (a: number, n: number) => Math.abs(a - n) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(n));

/** Activations whose derivative jumps at 0: samples with a pre-activation this close to 0 are rejected. */
const KINKED = new Set(["relu", "leaky_relu", "elu"]);
const KINK_MARGIN = 1e-4;
/**
 * bce's last layer is a sigmoid: beyond |z| = 6, 1 - p is below 2.5e-3 and its rounding error, amplified by
 * log(1 - p) and divided by 2h, would swamp the finite difference rather than reveal a wrong gradient.
 */
const BCE_LOGIT_LIMIT = 6;

const ACTIVATIONS = opNames("activation");
const LOSSES = ["sse", "l2", "mse", "bce", "bce_with_logits", "cross_entropy"] as const;
type Loss = (typeof LOSSES)[number];

const tensor = (rows: number, cols: number, data: readonly number[]): Tensor => {
  const t = zeros(rows, cols);
  t.data.set(data);
  return t;
};

// ---------------------------------------------------------------- random networks

interface Structure {
  readonly layout: Layout;
  readonly batch: number;
  /** widths[0] is the number of input features, widths[i] the units of layer i. */
  readonly widths: readonly number[];
  readonly activations: readonly string[];
  readonly biases: readonly boolean[];
  readonly loss: Loss;
  readonly reduction: "sum" | "mean" | undefined;
  readonly l2: number | undefined;
  /** For cross_entropy: one-hot rows/columns, or class indices as a row or column vector. */
  readonly targetForm: "one-hot" | "index row" | "index column";
}

const structure: fc.Arbitrary<Structure> = fc
  .record({
    layout: fc.constantFrom<Layout>("columns", "rows"),
    batch: fc.integer({ min: 1, max: 4 }),
    inputWidth: fc.integer({ min: 1, max: 4 }),
    layers: fc.array(
      fc.record({
        width: fc.integer({ min: 1, max: 4 }),
        activation: fc.constantFrom(...ACTIVATIONS),
        bias: fc.boolean(),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    loss: fc.constantFrom(...LOSSES),
    reduction: fc.constantFrom(undefined, "sum" as const, "mean" as const),
    l2: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: undefined }),
    targetForm: fc.constantFrom("one-hot" as const, "index row" as const, "index column" as const),
  })
  .map(({ inputWidth, layers, loss, ...rest }) => {
    const last = layers.length - 1;
    return {
      ...rest,
      loss,
      // cross_entropy needs at least 2 classes to say anything; with one, every loss and gradient is 0.
      widths: [
        inputWidth,
        ...layers.map((l, i) => (i === last && loss === "cross_entropy" ? Math.max(l.width, 2) : l.width)),
      ],
      // bce takes probabilities, so the last layer must produce them.
      activations: layers.map((l, i) => (i === last && loss === "bce" ? "sigmoid" : l.activation)),
      biases: layers.map((l) => l.bias),
    };
  });

const entries = (n: number, min = -1, max = 1) =>
  fc.array(fc.double({ min, max, noNaN: true }), { minLength: n, maxLength: n });

/** The number attributes of an activation (leaky_relu's slope, elu's alpha, any future one), drawn at random. */
const activationAttrs = (name: string): fc.Arbitrary<Record<string, number>> =>
  fc.record(
    Object.fromEntries(
      Object.entries(registry.get(name)?.attrs ?? {})
        .filter(([, spec]) => spec.type === "number")
        .map(([key]) => [key, fc.double({ min: 0.05, max: 2, noNaN: true })]),
    ),
  );

/** An m×n matrix in row-major order. */
interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: readonly number[];
}

const matrix = (rows: number, cols: number, min = -1, max = 1): fc.Arbitrary<Matrix> =>
  entries(rows * cols, min, max).map((data) => ({ rows, cols, data }));

function targetFor(s: Structure, rows: number, cols: number): fc.Arbitrary<Matrix> {
  const columns = s.layout === "columns";
  const classes = s.widths[s.widths.length - 1];
  switch (s.loss) {
    case "bce":
    case "bce_with_logits":
      // Hard labels and soft targets alike: anything in [0, 1].
      return fc
        .array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: rows * cols,
          maxLength: rows * cols,
        })
        .map((data) => ({ rows, cols, data }));
    case "cross_entropy":
      return fc
        .array(fc.integer({ min: 0, max: classes - 1 }), { minLength: s.batch, maxLength: s.batch })
        .map((indices) => {
          if (s.targetForm === "index row") return { rows: 1, cols: s.batch, data: indices };
          if (s.targetForm === "index column") return { rows: s.batch, cols: 1, data: indices };
          const data = new Array<number>(rows * cols).fill(0);
          // Sample i is column i in the columns layout, row i in the rows layout.
          indices.forEach((c, i) => {
            data[columns ? c * cols + i : i * cols + c] = 1;
          });
          return { rows, cols, data };
        });
    default:
      return matrix(rows, cols);
  }
}

interface Draw {
  readonly s: Structure;
  readonly input: Matrix;
  readonly layers: readonly { weight: Matrix; bias: Matrix | undefined; attrs: Record<string, number> }[];
  readonly target: Matrix;
}

const network: fc.Arbitrary<Draw> = structure.chain((s) => {
  const columns = s.layout === "columns";
  const orient = (rows: number, cols: number): [number, number] => (columns ? [rows, cols] : [cols, rows]);
  const layers = s.activations.map((activation, i) => {
    const [fanIn, units] = [s.widths[i], s.widths[i + 1]];
    return fc.record({
      // Columns: z = W·X + b with W units×fanIn and b units×1. Rows: z = X·W + b, both transposed.
      weight: matrix(...orient(units, fanIn)),
      bias: s.biases[i] ? matrix(...orient(units, 1)) : fc.constant(undefined),
      attrs: activationAttrs(activation),
    });
  });
  return fc.record({
    s: fc.constant(s),
    input: matrix(...orient(s.widths[0], s.batch)),
    layers: fc.tuple(...layers),
    target: targetFor(s, ...orient(s.widths[s.widths.length - 1], s.batch)),
  });
});

function toSpec({ s, input, layers, target }: Draw): NetworkSpec {
  const t = (m: Matrix) => tensor(m.rows, m.cols, m.data);
  return {
    layout: s.layout,
    layers: layers.map((l, i) => ({
      name: `layer${i + 1}`,
      weight: t(l.weight),
      bias: l.bias && t(l.bias),
      activation: s.activations[i],
      activationAttrs: l.attrs,
    })),
    loss: s.loss,
    reduction: s.reduction,
    l2: s.l2,
    input: t(input),
    target: t(target),
  };
}

// ---------------------------------------------------------------- the property

describe("compileNetwork + solve on random layer stacks", () => {
  it("every parameter's and the input's gradient matches central differences of the total loss", () => {
    fc.assert(
      fc.property(network, (draw) => {
        const spec = toSpec(draw);
        const net = compileNetwork(spec);
        const solution = solve(net);

        net.layers.forEach((layer, i) => {
          const z = solution.values[layer.preActivation].data;
          if (KINKED.has(spec.layers[i].activation)) fc.pre(z.every((v) => Math.abs(v) >= KINK_MARGIN));
          if (spec.loss === "bce" && i === net.layers.length - 1) {
            fc.pre(z.every((v) => Math.abs(v) <= BCE_LOGIT_LIMIT));
          }
        });

        // The total loss (data loss plus penalty) with one leaf's value replaced.
        const lossWith = (name: string, value: Tensor) =>
          evaluate(net.graph, new Map([...net.feeds, [name, value]]))[net.output].data[0];

        const mismatches: string[] = [];
        for (const name of [...net.parameters, "input"]) {
          const base = net.feeds.get(name) as Tensor;
          const analytic = leafGradient(net, solution, name);
          for (let k = 0; k < base.data.length; k++) {
            const shifted = (delta: number) => {
              const t = zeros(base.rows, base.cols);
              t.data.set(base.data);
              t.data[k] += delta;
              return t;
            };
            const numeric = (lossWith(name, shifted(H)) - lossWith(name, shifted(-H))) / (2 * H);
            if (!close(analytic.data[k], numeric)) {
              mismatches.push(`${name}[${k}]: solve ${analytic.data[k]}, finite difference ${numeric}`);
            }
          }
        }
        expect(mismatches).toEqual([]);
        // The target and λ are data: solve() does not differentiate them.
        for (const name of spec.l2 === undefined ? ["target"] : ["target", "l2"]) {
          expect(solution.grads[leafIndex(net.graph, name)], name).toBeNull();
        }
      }),
      { seed: 20_240_611, numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------- shape errors in the network's own terms

/** A 2-layer network whose second layer is given `weight` (and `bias`), after a first layer of 5 units. */
function twoLayers(layout: Layout, weight: Tensor, bias?: Tensor): NetworkSpec {
  const columns = layout === "columns";
  // 2 input features, batch of 2; the first layer maps 2 features to 5 units.
  const first = columns ? zeros(5, 2) : zeros(2, 5);
  return {
    layout,
    layers: [
      { name: "layer1", weight: first, activation: "tanh" },
      { name: "layer2", weight, bias, activation: "identity" },
    ],
    loss: "sse",
    input: zeros(2, 2),
    target: zeros(2, 2),
  };
}

function compileError(spec: NetworkSpec): CoreError {
  try {
    compileNetwork(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(CoreError);
    return e as CoreError;
  }
  return expect.fail("compileNetwork accepted a misshapen network");
}

describe("compileNetwork explains misshapen layers in the network's own terms", () => {
  it.each([
    ["columns", "5 rows", "outputs×5"],
    ["rows", "5 columns", "5×outputs"],
  ] as const)("a weight that does not fit its input, %s layout", (layout, has, mustBe) => {
    const e = compileError(twoLayers(layout, zeros(3, 4)));
    expect(e.kind).toBe("shape");
    expect(e.origin?.path).toEqual(["network", "layers", 1, "weight"]);
    expect(e.message).toContain("layer2: weight is 3×4 but its input");
    expect(e.message).toContain("the output of layer1");
    expect(e.message).toContain(`has ${has}`);
    expect(e.message).toContain(`in the ${layout} layout the weight must be ${mustBe}`);
  });

  it.each(["columns", "rows"] as const)("the first layer's weight is compared with the input, %s layout", (layout) => {
    const spec = twoLayers(layout, zeros(1, 1));
    const e = compileError({ ...spec, layers: [{ ...spec.layers[0], weight: zeros(3, 3) }] });
    expect(e.origin?.path).toEqual(["network", "layers", 0, "weight"]);
    expect(e.message).toContain("layer1: weight is 3×3 but its input (the input, 2×2) has 2");
  });

  it.each([
    ["columns", zeros(2, 5), zeros(1, 2), "2×1"],
    ["rows", zeros(5, 2), zeros(2, 1), "1×2"],
  ] as const)("a bias of the wrong length, %s layout", (layout, weight, bias, expected) => {
    const e = compileError(twoLayers(layout, weight, zeros(3, 1)));
    expect(e.kind).toBe("shape");
    expect(e.origin?.path).toEqual(["network", "layers", 1, "bias"]);
    expect(e.message).toContain("layer2: bias is 3×1 but the layer has 2 outputs");
    expect(e.message).toContain(`(${expected})`);
    // The right shape but the wrong orientation is rejected too, not silently broadcast.
    const turned = compileError(twoLayers(layout, weight, bias));
    expect(turned.origin?.path).toEqual(["network", "layers", 1, "bias"]);
  });
});
