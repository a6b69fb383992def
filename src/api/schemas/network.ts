import { z } from "zod";
import { opNames, registry } from "../../core/ops/registry.js";
import { FiniteNumber, Matrix, MatrixOrList, quoted } from "./values.js";

const activationNames = opNames("activation") as [string, ...string[]];
const lossNames = opNames("loss") as [string, ...string[]];

/** "unknown activation "sigmoidd"; valid: …" for a bad name, or for the type of a bad {type, …} object. */
function listed(kind: string, names: readonly string[]) {
  return (issue: { input?: unknown }) => {
    const given = issue.input as { type?: unknown } | undefined;
    const name = typeof given === "object" && given !== null ? given.type : given;
    return `unknown ${kind} ${quoted(name)}; valid: ${names.join(", ")}`;
  };
}

const ActivationName = z.enum(activationNames, { error: listed("activation", activationNames) });

/** The object form of each activation, with its numeric parameters (leaky_relu's slope, elu's alpha) from the registry. */
const ActivationObject = z.discriminatedUnion(
  "type",
  activationNames.map((name) => {
    const op = registry.get(name);
    const params = Object.entries(op?.attrs ?? {}).filter(([, spec]) => spec.type === "number");
    return z.strictObject({
      type: z.literal(name).describe(`The activation: ${name}`),
      ...Object.fromEntries(
        params.map(([key, spec]) => [
          key,
          FiniteNumber.optional().describe(`${spec.description} (default ${spec.default})`),
        ]),
      ),
    });
  }) as unknown as [z.ZodObject, ...z.ZodObject[]],
  { error: listed("activation", activationNames) },
);

export const Activation = z.union([ActivationName, ActivationObject]).meta({
  description: `An activation name (${activationNames.join(", ")}), or an object {"type", ...parameters} such as {"type": "leaky_relu", "slope": 0.2}. softmax normalizes over the units of each sample.`,
});

export const Reduction = z
  .enum(["sum", "mean"])
  .describe("sum adds the per-entry (per-sample for cross_entropy) losses; mean divides by their count");

const lossName = () => z.enum(lossNames, { error: listed("loss", lossNames) });

export const Loss = z
  .union([
    lossName(),
    z.strictObject({ type: lossName().describe("The loss function"), reduction: Reduction.optional() }),
  ])
  .meta({
    description:
      "A loss name or {type, reduction}. Defaults: sse (alias l2) sums, mse averages, bce, bce_with_logits and cross_entropy average as PyTorch does. cross_entropy and bce_with_logits take the last layer's output as logits.",
  });

const LayerName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a layer name is a letter or _ followed by letters, digits or _")
  .max(64);

export const Layer = z.strictObject({
  name: LayerName.optional().describe(
    'The layer\'s name in responses and messages; default "layer1", "layer2", … by position',
  ),
  weight: Matrix.describe(
    "W: outputs×inputs in the columns layout (z = W·x + b), inputs×outputs in the rows layout (z = x·W + b); a plain number for a 1×1 weight",
  ),
  bias: MatrixOrList.optional().describe(
    "b: one number per output unit, as a list, a column (columns layout) or row (rows layout) matrix, or a plain number for one unit. Omit for no bias.",
  ),
  activation: Activation.optional().describe("Applied to z; default identity"),
});

export const Layout = z
  .enum(["columns", "rows"])
  .describe(
    "columns (default): samples are columns of the input, as in the homework's P = W·X; rows: samples are rows, as in PyTorch",
  );

export const Network = z
  .strictObject({
    layout: Layout.optional(),
    layers: z
      .array(Layer)
      .min(1, "a network needs at least one layer")
      .describe("The layers from input to output; each computes act(W·a + b) of the previous layer's output a"),
    loss: Loss,
    regularization: z
      .strictObject({
        l2: FiniteNumber.min(0, "l2 must be ≥ 0").describe("λ of the penalty λ·Σ‖W‖² over every weight (not biases)"),
      })
      .optional()
      .describe("Added to the data loss; the response reports both parts"),
  })
  .superRefine((network, ctx) => {
    const seen = new Map<string, number>();
    network.layers.forEach((layer, i) => {
      const name = layer.name ?? `layer${i + 1}`;
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["layers", i, "name"],
          message: `the name "${name}" is already used by layer ${first + 1}; layer names must be unique`,
        });
      }
      seen.set(name, i);
    });
  })
  .meta({ description: "A stack of fully connected layers and the loss on its output" });

export type NetworkInput = z.infer<typeof Network>;
export type ActivationInput = z.infer<typeof Activation>;
export type LossInput = z.infer<typeof Loss>;
