import { CoreError } from "../errors.js";
import type { CompiledProblem } from "../problem.js";
import { scalar, shapeText, type Tensor } from "../tensor.js";
import { hasClassAxis } from "./axis.js";
import { ProblemBuilder } from "./builder.js";

/** Samples as columns (z = W·X + b, the homework's P = WX) or as rows (z = X·W + b, PyTorch's layout). */
export type Layout = "columns" | "rows";

export interface LayerSpec {
  readonly name: string;
  readonly weight: Tensor;
  /** Already oriented: out×1 in the columns layout, 1×out in the rows layout. */
  readonly bias?: Tensor;
  readonly activation: string;
  readonly activationAttrs?: Readonly<Record<string, number>>;
}

export interface NetworkSpec {
  readonly layout: Layout;
  readonly layers: readonly LayerSpec[];
  readonly loss: string;
  readonly reduction?: "sum" | "mean";
  /** λ of the L2 weight penalty λ·Σ‖W‖², over weights only. */
  readonly l2?: number;
  readonly input: Tensor;
  readonly target: Tensor;
}

export interface CompiledLayer {
  readonly name: string;
  readonly weight: number;
  readonly bias?: number;
  readonly preActivation: number;
  readonly activation: number;
}

export interface CompiledNetwork extends CompiledProblem {
  readonly layers: readonly CompiledLayer[];
  readonly dataLoss: number;
  readonly penalty?: number;
}

export const weightName = (layer: string) => `${layer}.weight`;
export const biasName = (layer: string) => `${layer}.bias`;

/** Which axis of a layer's output holds the units (and so the classes of a softmax). */
export const unitAxis = (layout: Layout): 0 | 1 => (layout === "columns" ? 0 : 1);

/**
 * Compiles a layer stack onto the core graph. Shapes are checked here with messages in the network's own
 * terms ("layer2: weight is 3×4 but its input has 5 rows") before the generic op rules would fire.
 */
export function compileNetwork(spec: NetworkSpec): CompiledNetwork {
  if (spec.layers.length === 0)
    throw new CoreError("shape", "a network needs at least one layer", { path: ["network", "layers"] });
  const p = new ProblemBuilder();
  const b = p.graph;
  const columns = spec.layout === "columns";

  const input = p.constant("input", spec.input, { path: ["input"] });
  let current = input;
  let currentText = "the input";
  const layers: CompiledLayer[] = [];
  spec.layers.forEach((layer, i) => {
    const path = ["network", "layers", i];
    const w = layer.weight;
    const incoming = b.node(current).shape;
    const [fanIn, have, dim] = columns ? [w.cols, incoming.rows, "rows"] : [w.rows, incoming.cols, "columns"];
    if (fanIn !== have) {
      throw new CoreError(
        "shape",
        `${layer.name}: weight is ${shapeText(w)} but its input (${currentText}, ${shapeText(incoming)}) has ${have} ${dim}; ` +
          `in the ${spec.layout} layout the weight must be ${columns ? `outputs×${have}` : `${have}×outputs`}`,
        { path: [...path, "weight"] },
      );
    }
    const units = columns ? w.rows : w.cols;
    const weight = p.parameter(weightName(layer.name), w, { path: [...path, "weight"] });
    let z = columns
      ? b.apply("matmul", [weight, current], { name: `${layer.name}.W·x`, origin: { path: [...path, "weight"] } })
      : b.apply("matmul", [current, weight], { name: `${layer.name}.x·W`, origin: { path: [...path, "weight"] } });
    let bias: number | undefined;
    if (layer.bias) {
      const expected = columns ? { rows: units, cols: 1 } : { rows: 1, cols: units };
      if (layer.bias.rows !== expected.rows || layer.bias.cols !== expected.cols) {
        throw new CoreError(
          "shape",
          `${layer.name}: bias is ${shapeText(layer.bias)} but the layer has ${units} outputs, so it must be ${units} numbers (${shapeText(expected)})`,
          { path: [...path, "bias"] },
        );
      }
      bias = p.parameter(biasName(layer.name), layer.bias, { path: [...path, "bias"] });
      z = b.apply("add", [z, bias], { name: `${layer.name}.z`, origin: { path: [...path, "bias"] } });
    }
    const a = b.apply(layer.activation, [z], {
      name: `${layer.name}.a`,
      attrs: axisFor(layer.activation, spec.layout, layer.activationAttrs),
      origin: { path: [...path, "activation"] },
    });
    layers.push({ name: layer.name, weight, bias, preActivation: z, activation: a });
    current = a;
    currentText = `the output of ${layer.name}`;
  });

  const target = p.constant("target", spec.target, { path: ["target"] });
  const lossAttrs: Record<string, unknown> = { ...axisFor(spec.loss, spec.layout) };
  if (spec.reduction) lossAttrs.reduction = spec.reduction;
  const dataLoss = b.apply(spec.loss, [target, current], {
    name: "loss",
    attrs: lossAttrs,
    origin: { path: ["target"] },
  });

  if (spec.l2 === undefined) return { ...p.finish(dataLoss, [input]), layers, dataLoss };
  const sums = layers.map((l) =>
    b.apply("sum", [b.apply("mul", [l.weight, l.weight], { name: `${l.name}.weight²` })], {
      name: `Σ ${l.name}.weight²`,
    }),
  );
  const total = sums.reduce((acc, s) => b.apply("add", [acc, s], { name: "Σ weight²" }));
  const lambda = p.constant("l2", scalar(spec.l2), { path: ["network", "regularization", "l2"] });
  const penalty = b.apply("mul", [lambda, total], { name: "penalty" });
  const loss = b.apply("add", [dataLoss, penalty], { name: "total loss" });
  return { ...p.finish(loss, [input]), layers, dataLoss, penalty };
}

/** Ops that act along the class axis (softmax, cross_entropy) are told by the layout which axis that is. */
function axisFor(op: string, layout: Layout, attrs: Readonly<Record<string, number>> = {}): Record<string, unknown> {
  return hasClassAxis(op) ? { ...attrs, axis: unitAxis(layout) } : attrs;
}
