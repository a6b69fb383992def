import { z } from "zod";
import { homeworkExamples } from "../examples.js";
import { AnalysisOptions, AnalysisResponse } from "./analysis.js";
import { Network } from "./network.js";
import { FiniteNumber, Matrix, MatrixOrList } from "./values.js";

const PerSample =
  "A matrix (features×samples in the columns layout, samples×features in the rows layout), a plain number for one sample of one feature, or a list with one number per sample";

/** The problem of a network request: shared by /v1/gradients, /v1/train and /v1/grade. */
export const networkProblemShape = {
  network: Network,
  input: MatrixOrList.describe(`X, the data fed to the first layer. ${PerSample}`),
  target: MatrixOrList.describe(
    `Y, what the loss compares the output with, shaped like the output. For cross_entropy also one class index (0-based) per sample. ${PerSample}`,
  ),
};

export const GradientsRequest = z
  .strictObject({
    ...networkProblemShape,
    learningRate: FiniteNumber.optional().describe(
      "If given, the response includes updatedNetwork: every weight and bias after one gradient-descent step θ - learningRate·∂L/∂θ",
    ),
    ...AnalysisOptions,
  })
  .meta({
    description: "A layer-stack network, its data, and optionally a learning rate for one gradient-descent step",
    "x-examples": homeworkExamples,
  });

const LayerForward = z.object({
  name: z.string().describe("The layer's name"),
  preActivation: Matrix.describe("z = W·a + b (columns) or a·W + b (rows), before the activation"),
  activation: Matrix.describe("a = act(z), the layer's output"),
});

const LayerGradients = z.object({
  weight: MatrixOrList.describe("∂L/∂W, in the weight's shape and form"),
  bias: MatrixOrList.optional().describe("∂L/∂b, in the bias's shape and form (present when the layer has a bias)"),
});

export const GradientsResponse = z.object({
  loss: z.number().describe("L, the total loss (data loss plus penalty when regularized)"),
  dataLoss: z.number().optional().describe("The loss on the data alone (present when regularized)"),
  penalty: z.number().optional().describe("λ·Σ‖W‖² (present when regularized)"),
  output: Matrix.describe("The network's output (the last layer's activation)"),
  forward: z.array(LayerForward).describe("Every layer's pre-activation and activation, in order"),
  gradients: z.record(z.string(), LayerGradients).describe("∂L/∂W and ∂L/∂b for each layer, by layer name"),
  inputGradient: Matrix.describe("∂L/∂X, the gradient with respect to the input"),
  updatedNetwork: Network.optional().describe(
    "The request's network after one gradient-descent step (present when learningRate is given); it can be POSTed again",
  ),
  ...AnalysisResponse,
});

export type GradientsRequestBody = z.infer<typeof GradientsRequest>;
export type GradientsResponseBody = z.infer<typeof GradientsResponse>;
