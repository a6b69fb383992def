import { z } from "zod";
import { optimizerDefaults } from "../../core/optimizers.js";
import { trainExamples } from "../examples.js";
import { checkExpressionProblem, expressionProblemShape } from "./expressions.js";
import { networkProblemShape } from "./gradients.js";
import { Network } from "./network.js";
import { MatrixOrList } from "./values.js";

/** The most steps the schema allows; a deployment may set a lower limit (MAX_TRAIN_STEPS). */
export const STEPS_CEILING = 100_000;

const rate = (fallback: number) =>
  z.number().positive().optional().describe(`Learning rate; default ${fallback} (PyTorch's)`);
const decay = z
  .number()
  .min(0)
  .optional()
  .describe("L2 weight decay added to the gradient, θ·weightDecay, as PyTorch; default 0");

export const Optimizer = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("sgd").describe("Stochastic gradient descent (torch.optim.SGD)"),
      lr: rate(optimizerDefaults.sgd.lr),
      momentum: z.number().min(0).optional().describe("Momentum factor; default 0"),
      dampening: z.number().min(0).optional().describe("Dampening for momentum; default 0"),
      nesterov: z
        .boolean()
        .optional()
        .describe("Nesterov momentum (needs momentum > 0 and dampening 0); default false"),
      weightDecay: decay,
    }),
    z.strictObject({
      type: z.literal("adam").describe("Adam with bias correction (torch.optim.Adam)"),
      lr: rate(optimizerDefaults.adam.lr),
      betas: z
        .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
        .optional()
        .describe("(β1, β2); default [0.9, 0.999]"),
      eps: z.number().positive().optional().describe("Added to the denominator; default 1e-8"),
      weightDecay: decay,
    }),
    z.strictObject({
      type: z.literal("rmsprop").describe("RMSprop (torch.optim.RMSprop)"),
      lr: rate(optimizerDefaults.rmsprop.lr),
      alpha: z.number().min(0).lt(1).optional().describe("Smoothing constant; default 0.99"),
      eps: z.number().positive().optional().describe("Added to the denominator; default 1e-8"),
      momentum: z.number().min(0).optional().describe("Momentum factor; default 0"),
      centered: z.boolean().optional().describe("Normalize by the gradient's estimated variance; default false"),
      weightDecay: decay,
    }),
    z.strictObject({
      type: z.literal("adagrad").describe("Adagrad (torch.optim.Adagrad)"),
      lr: rate(optimizerDefaults.adagrad.lr),
      lrDecay: z.number().min(0).optional().describe("Learning-rate decay; default 0"),
      eps: z.number().positive().optional().describe("Added to the denominator; default 1e-10"),
      initialAccumulatorValue: z.number().min(0).optional().describe("Starting value of the sum of squares; default 0"),
      weightDecay: decay,
    }),
  ])
  .superRefine((o, ctx) => {
    if (o.type === "sgd" && o.nesterov && (!o.momentum || o.dampening)) {
      ctx.addIssue({
        code: "custom",
        path: ["nesterov"],
        message: "Nesterov momentum needs momentum > 0 and dampening 0",
      });
    }
  })
  .describe("The optimizer and its settings; every setting has PyTorch's default");

export const OptimizerState = z
  .strictObject({
    type: z.enum(["sgd", "adam", "rmsprop", "adagrad"]).describe("The optimizer this state belongs to"),
    step: z.number().int().min(0).describe("Steps taken so far"),
    buffers: z
      .record(z.string(), z.record(z.string(), MatrixOrList))
      .describe("Per parameter, the optimizer's buffers (momentumBuffer, expAvg, expAvgSq, squareAvg, gradAvg, sum)"),
  })
  .describe("An optimizer's state, as a previous response returned it, to continue a run");

export const trainingShape = {
  steps: z.number().int().min(1).max(STEPS_CEILING).describe("How many optimizer steps to take"),
  optimizer: Optimizer,
  batch: z
    .strictObject({
      size: z.number().int().min(1).describe("Samples per mini-batch; the last one may be smaller"),
      over: z
        .array(z.string())
        .min(1)
        .optional()
        .describe("The constants that hold the samples; for a network, input and target (the default)"),
      samplesAre: z
        .enum(["rows", "columns"])
        .optional()
        .describe("Whether a sample is a row or a column of them; a network's layout decides, otherwise rows"),
    })
    .optional()
    .describe(
      "Mini-batches in the data's order, cycling: step k uses batch k mod (number of batches). Omit for full batch.",
    ),
  history: z.boolean().optional().describe("Also return the parameters after every step"),
  state: OptimizerState.optional(),
};

export const TrainRequest = z
  .union([
    z.strictObject({ ...networkProblemShape, ...trainingShape }),
    z.strictObject({ ...expressionProblemShape, ...trainingShape }).superRefine(checkExpressionProblem),
  ])
  .meta({
    description: "A network, expression or graph problem, and how to train it",
    "x-examples": trainExamples,
  });

const Parameters = z.record(z.string(), MatrixOrList).describe("Parameters by name, in the forms sent");

export const TrainResponse = z.object({
  losses: z.array(z.number()).describe("The loss at each step, before that step's update, on that step's mini-batch"),
  finalLoss: z.number().describe("The loss at the final parameters on all the data"),
  network: Network.optional().describe("For a network: the trained network, ready to POST again"),
  parameters: Parameters.optional().describe("For an expression or graph: the trained parameters"),
  history: z
    .array(z.union([Network, Parameters]))
    .optional()
    .describe("With history: the network (or parameters) after each step"),
  state: OptimizerState.describe("The optimizer's state after the last step: send it back with `state` to continue"),
});

export type TrainRequestBody = z.infer<typeof TrainRequest>;
export type TrainResponseBody = z.infer<typeof TrainResponse>;
