import { CoreError } from "../core/errors.js";
import {
  type Buffers,
  bufferNames,
  freshState,
  type OptimizerSpec,
  type OptimizerState,
  optimizerDefaults,
} from "../core/optimizers.js";
import type { CompiledProblem } from "../core/problem.js";
import { sameShape, shapeText, type Tensor } from "../core/tensor.js";
import { type Batching, train } from "../core/train.js";
import { admitted, type Budget } from "./budget.js";
import {
  compileRequest as compileExpressionRequest,
  type ExpressionProblemBody,
  parametersWith,
} from "./expressions.js";
import { compileRequest as compileNetworkRequest, networkWith } from "./networks.js";
import type { NetworkInput } from "./schemas/network.js";
import type { TrainRequestBody, TrainResponseBody } from "./schemas/train.js";
import type { WireValue } from "./schemas/values.js";
import { decode, encodeAs, type WireForm } from "./wire.js";

type NetworkProblemBody = { network: NetworkInput; input: WireValue; target: WireValue };

/**
 * Any problem form seen the same way by training and grading: compiled, compilable again with other
 * constants, and able to write parameter values back in the request's own form.
 */
export interface ProblemForm {
  readonly compiled: CompiledProblem;
  readonly rebuild: (constants: ReadonlyMap<string, Tensor>) => CompiledProblem;
  readonly forms: ReadonlyMap<string, WireForm>;
  readonly encode: (
    values: ReadonlyMap<string, Tensor>,
  ) => { network: NetworkInput } | { parameters: Record<string, WireValue> };
  readonly batching?: Omit<Batching, "size">;
}

export function problemForm(body: NetworkProblemBody | ExpressionProblemBody, budget: Budget): ProblemForm {
  if ("network" in body) {
    const { compiled, forms, rebuild } = compileNetworkRequest(body);
    const columns = (body.network.layout ?? "columns") === "columns";
    return {
      compiled,
      rebuild,
      forms,
      encode: (values) => ({ network: networkWith(body.network, values, forms) }),
      batching: { over: ["input", "target"], samplesAre: columns ? "columns" : "rows" },
    };
  }
  const forms = new Map<string, WireForm>();
  const { compiled, rebuild } = compileExpressionRequest(body, forms, budget);
  return { compiled, rebuild, forms, encode: (values) => ({ parameters: parametersWith(values, forms) }) };
}

/** The request's optimizer with PyTorch's defaults filled in. */
function optimizerSpec(o: TrainRequestBody["optimizer"]): OptimizerSpec {
  switch (o.type) {
    case "sgd":
      return { ...optimizerDefaults.sgd, ...o };
    case "adam": {
      const { betas, ...rest } = o;
      const [beta1, beta2] = betas ?? [optimizerDefaults.adam.beta1, optimizerDefaults.adam.beta2];
      return { ...optimizerDefaults.adam, ...rest, beta1, beta2 };
    }
    case "rmsprop":
      return { ...optimizerDefaults.rmsprop, ...o };
    case "adagrad":
      return { ...optimizerDefaults.adagrad, ...o };
  }
}

/** A state sent back to continue a run, checked against this optimizer and these parameters. */
function stateFrom(sent: TrainRequestBody["state"], spec: OptimizerSpec, form: ProblemForm): OptimizerState {
  if (!sent) return freshState;
  const fail = (path: (string | number)[], message: string) =>
    new CoreError("shape", message, { path: ["state", ...path] });
  if (sent.type !== spec.type) throw fail(["type"], `the state is for ${sent.type}, but the optimizer is ${spec.type}`);
  const buffers = new Map<string, Buffers>();
  for (const [name, sentBuffers] of Object.entries(sent.buffers)) {
    const parameter = form.compiled.feeds.get(name);
    if (!parameter || !form.compiled.parameters.includes(name)) {
      throw fail(["buffers", name], `'${name}' is not a parameter; parameters: ${form.compiled.parameters.join(", ")}`);
    }
    const decoded: [string, Tensor][] = [];
    for (const [buffer, value] of Object.entries(sentBuffers)) {
      if (!bufferNames[spec.type].includes(buffer)) {
        throw fail(
          ["buffers", name, buffer],
          `${spec.type} keeps no buffer '${buffer}'; it keeps ${bufferNames[spec.type].join(", ")}`,
        );
      }
      const t = decode(value, parameter.rows === 1 ? "row" : "column").tensor;
      if (!sameShape(t, parameter)) {
        throw fail(
          ["buffers", name, buffer],
          `${buffer} of ${name} is ${shapeText(t)}, but ${name} is ${shapeText(parameter)}`,
        );
      }
      decoded.push([buffer, t]);
    }
    buffers.set(name, Object.fromEntries(decoded));
  }
  return { step: sent.step, buffers };
}

export function runTraining(body: TrainRequestBody, budget: Budget = admitted): TrainResponseBody {
  budget.within("trainSteps", body.steps, ["steps"]);
  const form = problemForm(body, budget);
  // Every step is a forward and a reverse pass, and the final loss one more forward.
  budget.admit(form.compiled.graph, body.steps + 1);
  const spec = optimizerSpec(body.optimizer);
  let batching: Batching | undefined;
  if (body.batch) {
    const over = body.batch.over ?? form.batching?.over;
    if (!over) {
      throw new CoreError(
        "unknown",
        "for an expression or graph, batch.over must name the constants that hold the samples",
        {
          path: ["batch", "over"],
        },
      );
    }
    over.forEach((name, i) => {
      if (!form.compiled.feeds.has(name) || form.compiled.parameters.includes(name)) {
        throw new CoreError("unknown", `batching is over constants, and '${name}' is not one`, {
          path: ["batch", "over", i],
        });
      }
    });
    batching = {
      size: body.batch.size,
      over,
      samplesAre: body.batch.samplesAre ?? form.batching?.samplesAre ?? "rows",
    };
  }
  const result = train(form.compiled, form.rebuild, {
    steps: body.steps,
    optimizer: spec,
    state: stateFrom(body.state, spec, form),
    batching,
    history: body.history ?? false,
  });
  const buffers = Object.fromEntries(
    [...result.state.buffers].map(([name, b]) => [
      name,
      Object.fromEntries(Object.entries(b).map(([k, t]) => [k, encodeAs(t, form.forms.get(name))])),
    ]),
  );
  return {
    losses: result.losses,
    finalLoss: result.finalLoss,
    ...form.encode(result.parameters),
    ...(result.history ? { history: result.history.map((p) => Object.values(form.encode(p))[0]) } : {}),
    state: { type: spec.type, step: result.state.step, buffers },
  } as TrainResponseBody;
}
