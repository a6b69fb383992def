import { z } from "zod";
import { checkDefaults } from "../../core/check.js";
import { healthThresholds } from "../../core/diagnostics.js";
import { Matrix } from "./values.js";

/** The options every compute endpoint takes besides its problem. */
export const AnalysisOptions = {
  explain: z
    .boolean()
    .optional()
    .describe(
      "Add `explanation`: for each parameter the derivation of its gradient (the chain rule factor by factor for scalar computations, the backward recurrences per layer or the reverse pass for matrices), in plain text, LaTeX and numbers",
    ),
  check: z
    .union([
      z.boolean(),
      z.strictObject({
        eps: z
          .number()
          .positive()
          .max(1)
          .optional()
          .describe(`Step, relative to max(1, |θ|); default ${checkDefaults.eps}`),
        atol: z.number().min(0).optional().describe(`Absolute tolerance; default ${checkDefaults.atol}`),
        rtol: z.number().min(0).optional().describe(`Relative tolerance; default ${checkDefaults.rtol}`),
        maxEntries: z
          .number()
          .int()
          .positive()
          .max(100_000)
          .optional()
          .describe(
            `Entries compared per parameter at most (evenly spaced beyond); default ${checkDefaults.maxEntries}`,
          ),
      }),
    ])
    .optional()
    .describe(
      "Add `check`: central finite differences for every parameter entry against the analytic gradient, passing where |analytic - numeric| ≤ atol + rtol·|numeric| (torch.autograd.gradcheck's rule and defaults)",
    ),
  digits: z
    .number()
    .int()
    .min(1)
    .max(17)
    .optional()
    .describe("Significant digits of the rounded numbers in explanations and pictures; default 4"),
  format: z
    .enum(["json", "svg", "dot", "chart"])
    .optional()
    .describe(
      "json (default): the JSON response. svg or dot: a picture of the computation graph with every value and gradient (svg for graphs of at most MAX_PICTURE_NODES nodes, 100 by default; dot for any size). chart: an SVG bar chart of gradient norms per parameter on a log scale.",
    ),
};

const Rendered = {
  text: z.string().describe("Plain text"),
  latex: z.string().describe("LaTeX"),
};
const RenderedObject = z.object(Rendered);

const Numbers = {
  value: Matrix.describe("At full float64 precision"),
  rounded: Matrix.describe("Rounded to the requested significant digits"),
};

const Step = z.object({
  name: RenderedObject.describe("What this step computes"),
  formula: RenderedObject.describe("How, as an equation"),
  ...Numbers,
  parts: z
    .array(z.object({ name: RenderedObject.describe("A quantity the formula combines"), ...Numbers }))
    .optional()
    .describe("The values the formula combines, such as W_{l+1}ᵀ δ_{l+1} and act'(z_l)"),
});

const ChainRule = z.object({
  kind: z.literal("chain-rule").describe("The chain rule as a product of scalar partials"),
  gradient: z
    .object({ ...Rendered, value: z.number().describe("∂L/∂θ"), rounded: z.number().describe("Rounded") })
    .describe("The gradient being derived"),
  paths: z
    .array(
      z.object({
        factors: z
          .array(
            z.object({
              name: RenderedObject.describe("The partial, such as ∂ŷ/∂z3"),
              formula: RenderedObject.describe("Its symbolic form, such as σ'(z3)"),
              value: z.number().describe("Its value"),
              rounded: z.number().describe("Its value, rounded"),
              product: z.number().describe("The running product of this and every earlier factor"),
              productRounded: z.number().describe("The running product, rounded"),
            }),
          )
          .describe("From the output down to the parameter"),
        value: z.number().describe("The product along this path"),
        rounded: z.number().describe("The product, rounded"),
      }),
    )
    .describe("Every path from the output to the parameter; the gradient is the sum over paths"),
  omittedPaths: z
    .number()
    .int()
    .describe(
      "Paths beyond those listed (at most 32, and at most 1024 factors over all of them, the first path whole), counted up to 2^53 - 1 in all (a graph that reuses values has exponentially many)",
    ),
  ...Rendered,
});

export const Explanation = z
  .object({
    digits: z.number().int().describe("Significant digits of the rounded numbers"),
    chainRule: z
      .record(z.string(), ChainRule)
      .describe("By parameter: the chain rule, where every value on the way is a scalar"),
    backprop: z
      .object({
        kind: z.literal("backprop").describe("Backward recurrences of a layer stack"),
        layout: z.enum(["columns", "rows"]).describe("The network's layout, which decides the order of the products"),
        steps: z.array(Step).describe("The output gradient, then per layer from the last: δ_l, ∂L/∂W_l, ∂L/∂b_l"),
      })
      .optional()
      .describe("For a network with matrices"),
    reverseMode: z
      .object({
        kind: z.literal("reverse-mode").describe("The reverse pass, one vector-Jacobian product at a time"),
        steps: z.array(Step).describe("From the output down: the gradient each use of a value passes back"),
        omittedSteps: z.number().int().describe("Steps beyond the 200 listed"),
      })
      .optional()
      .describe("For any other computation with matrices"),
  })
  .describe("How each gradient follows from the chain rule");

export const GradientCheck = z
  .object({
    options: z
      .object({
        eps: z.number().describe("Step relative to max(1, |θ|)"),
        atol: z.number().describe("Absolute tolerance"),
        rtol: z.number().describe("Relative tolerance"),
        maxEntries: z.number().describe("Entries compared per parameter at most"),
      })
      .describe("The options in force"),
    parameters: z
      .array(
        z.object({
          parameter: z.string().describe("The parameter"),
          entries: z.number().int().describe("Its number of entries"),
          checked: z.number().int().describe("Entries compared"),
          maxAbsError: z
            .number()
            .describe("Largest |analytic - numeric|; float64's largest number where that overflows"),
          maxRelError: z.number().describe("Largest |analytic - numeric| / max(|analytic|, |numeric|)"),
          worst: z
            .object({
              row: z.number().int().describe("Row (1-based)"),
              column: z.number().int().describe("Column (1-based)"),
              analytic: z.number().describe("The analytic gradient there"),
              numeric: z.number().describe("The finite difference there"),
            })
            .describe("The entry with the largest absolute error"),
          skipped: z
            .number()
            .int()
            .describe("Entries where θ ± h left an op's domain, or whose difference quotient overflowed float64"),
          pass: z.boolean().describe("Whether every compared entry is within tolerance"),
        }),
      )
      .describe("Per parameter"),
    pass: z.boolean().describe("Whether every parameter passes"),
  })
  .describe("Central finite differences against the analytic gradients");

export const Diagnostics = z
  .object({
    thresholds: z
      .object({
        vanishingBelow: z
          .literal(healthThresholds.vanishingBelow)
          .describe("Ratio below which the gradient is vanishing"),
        explodingAbove: z.literal(healthThresholds.explodingAbove).describe("Ratio above which it is exploding"),
        saturationMargin: z
          .literal(healthThresholds.saturationMargin)
          .describe("A sigmoid or tanh output this close to a bound is saturated"),
      })
      .describe("The thresholds used"),
    parameters: z
      .array(
        z.object({
          parameter: z.string().describe("The parameter"),
          norm: z.number().describe("‖∂L/∂θ‖₂; float64's largest number where that overflows"),
          maxAbs: z.number().describe("max |∂L/∂θ|"),
        }),
      )
      .describe("Gradient size per parameter, from the input side to the output side for a network"),
    ratio: z
      .number()
      .optional()
      .describe("‖first‖/‖last‖: a network's first and last weight gradients, else the first and last parameters"),
    flag: z.enum(["vanishing", "exploding", "healthy"]).optional().describe("The ratio against the thresholds"),
    activations: z
      .array(
        z.object({
          node: z.string().describe("The activation's node"),
          activation: z.string().describe("sigmoid, tanh or relu"),
          entries: z.number().int().describe("Outputs over the batch"),
          saturated: z.number().int().optional().describe("sigmoid/tanh outputs within the margin of a bound"),
          units: z.number().int().optional().describe("relu units"),
          deadUnits: z.number().int().optional().describe("relu units that output 0 for every sample"),
        }),
      )
      .describe("Saturated and dead units of every sigmoid, tanh and relu"),
  })
  .describe("Gradient health, always computed");

export const AnalysisResponse = {
  diagnostics: Diagnostics,
  explanation: Explanation.optional(),
  check: GradientCheck.optional(),
};

/** A 200 that is JSON by default, or a picture when the request asks for one with `format`. */
export function jsonOrPicture(json: z.ZodType, description: string) {
  return {
    description,
    content: {
      "application/json": { schema: json },
      "image/svg+xml": {
        schema: z.string().describe("format svg: the computation graph; format chart: the gradient-norm bar chart"),
      },
      "text/vnd.graphviz": { schema: z.string().describe("format dot: the computation graph as Graphviz DOT") },
    },
  };
}
