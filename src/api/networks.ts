import {
  biasName,
  type CompiledNetwork,
  compileNetwork,
  type Layout,
  type NetworkSpec,
  weightName,
} from "../core/compile/network.js";
import type { ExplainTarget } from "../core/explain/index.js";
import { sgdStep } from "../core/optimize.js";
import { leafGradient, type Solution, solve } from "../core/problem.js";
import type { Tensor } from "../core/tensor.js";
import { analysis, checkPasses } from "./analysis.js";
import { admitted, type Budget, type Description } from "./budget.js";
import type { GradientsRequestBody, GradientsResponseBody } from "./schemas/gradients.js";
import type { ActivationInput, LossInput, NetworkInput } from "./schemas/network.js";
import { decode, encodeAs, encodeMatrix, type ListOrientation, type WireForm } from "./wire.js";

type LayerInput = NetworkInput["layers"][number];

/** A list given for a per-sample value holds one entry per sample, so it lies along the sample axis. */
const sampleList = (layout: Layout): ListOrientation => (layout === "columns" ? "row" : "column");
/** A list given for a bias holds one entry per unit. */
const unitList = (layout: Layout): ListOrientation => (layout === "columns" ? "column" : "row");

export const layerName = (layer: LayerInput, i: number) => layer.name ?? `layer${i + 1}`;

function activationOf(a: ActivationInput | undefined): { name: string; attrs: Record<string, number> } {
  if (a === undefined) return { name: "identity", attrs: {} };
  if (typeof a === "string") return { name: a, attrs: {} };
  const { type, ...attrs } = a as { type: string } & Record<string, number>;
  return { name: type, attrs };
}

function lossOf(l: LossInput): { loss: string; reduction?: "sum" | "mean" } {
  return typeof l === "string" ? { loss: l } : { loss: l.type, reduction: l.reduction };
}

/** A request's network, compiled, with what is needed to answer in the request's own forms. */
export interface NetworkProblem {
  readonly compiled: CompiledNetwork;
  readonly forms: ReadonlyMap<string, WireForm>;
  /** The same network with other data (a mini-batch): `input` and `target` by name. */
  readonly rebuild: (constants: ReadonlyMap<string, Tensor>) => CompiledNetwork;
}

export function compileRequest(body: Pick<GradientsRequestBody, "network" | "input" | "target">): NetworkProblem {
  const layout = body.network.layout ?? "columns";
  const forms = new Map<string, WireForm>();
  const spec: NetworkSpec = {
    layout,
    layers: body.network.layers.map((layer, i) => {
      const name = layerName(layer, i);
      const weight = decode(layer.weight, "row");
      forms.set(weightName(name), weight.form);
      const bias = layer.bias === undefined ? undefined : decode(layer.bias, unitList(layout));
      if (bias) forms.set(biasName(name), bias.form);
      const { name: activation, attrs } = activationOf(layer.activation);
      return { name, weight: weight.tensor, bias: bias?.tensor, activation, activationAttrs: attrs };
    }),
    ...lossOf(body.network.loss),
    l2: body.network.regularization?.l2,
    input: decode(body.input, sampleList(layout)).tensor,
    target: decode(body.target, sampleList(layout)).tensor,
  };
  const rebuild = (constants: ReadonlyMap<string, Tensor>) =>
    compileNetwork({
      ...spec,
      input: constants.get("input") ?? spec.input,
      target: constants.get("target") ?? spec.target,
    });
  return { compiled: compileNetwork(spec), forms, rebuild };
}

/** The request's network with other parameter values, in the forms the request used: it can be POSTed again. */
export function networkWith(
  network: NetworkInput,
  values: ReadonlyMap<string, Tensor>,
  forms: ReadonlyMap<string, WireForm>,
): NetworkInput {
  const at = (name: string) => encodeAs(values.get(name) as Tensor, forms.get(name));
  return {
    ...network,
    layers: network.layers.map((layer, i) => {
      const name = layerName(layer, i);
      const next = { ...layer, weight: at(weightName(name)) as LayerInput["weight"] };
      return layer.bias === undefined ? next : { ...next, bias: at(biasName(name)) };
    }),
  };
}

/** A network request solved: what the JSON response, the pictures and the analyses are made from. */
export interface SolvedNetwork extends NetworkProblem {
  readonly solution: Solution;
  readonly target: ExplainTarget;
}

export function solveNetworkRequest(
  body: Pick<GradientsRequestBody, "network" | "input" | "target" | "check">,
  budget: Budget = admitted,
  description?: Description,
): SolvedNetwork {
  const problem = compileRequest(body);
  budget.admit(problem.compiled.graph, 1 + checkPasses(problem.compiled, body.check), description);
  const layout = body.network.layout ?? "columns";
  return {
    ...problem,
    solution: solve(problem.compiled),
    target: { kind: "network", network: problem.compiled, layout },
  };
}

export function gradientsResponse(solved: SolvedNetwork, body: GradientsRequestBody): GradientsResponseBody {
  const { compiled, forms, solution } = solved;
  const { values } = solution;
  const value = (i: number) => values[i];
  const scalarAt = (i: number) => value(i).data[0];
  const gradientOf = (leaf: string) => leafGradient(compiled, solution, leaf);
  const last = compiled.layers[compiled.layers.length - 1];

  // Object.fromEntries makes every layer name an own key, "__proto__" included.
  const gradients: GradientsResponseBody["gradients"] = Object.fromEntries(
    compiled.layers.map((layer) => {
      const weight = encodeAs(gradientOf(weightName(layer.name)), forms.get(weightName(layer.name)));
      return [
        layer.name,
        layer.bias === undefined
          ? { weight }
          : { weight, bias: encodeAs(gradientOf(biasName(layer.name)), forms.get(biasName(layer.name))) },
      ];
    }),
  );

  const response: GradientsResponseBody = {
    loss: scalarAt(compiled.output),
    ...(compiled.penalty === undefined
      ? {}
      : { dataLoss: scalarAt(compiled.dataLoss), penalty: scalarAt(compiled.penalty) }),
    output: encodeMatrix(value(last.activation)),
    forward: compiled.layers.map((l) => ({
      name: l.name,
      preActivation: encodeMatrix(value(l.preActivation)),
      activation: encodeMatrix(value(l.activation)),
    })),
    gradients,
    inputGradient: encodeMatrix(gradientOf("input")),
    ...analysis(solved.target, solution, body),
  };
  if (body.learningRate === undefined) return response;

  const updated = sgdStep(compiled, solution, body.learningRate);
  return { ...response, updatedNetwork: networkWith(body.network, updated, forms) };
}
