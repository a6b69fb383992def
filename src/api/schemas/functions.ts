import { z } from "zod";
import { FiniteNumber } from "./values.js";

const DocFormula = z
  .object({
    text: z
      .string()
      .describe("In gradserve's expression language (piecewise as '1 if x > 0; 0 otherwise'), so it can be evaluated"),
    latex: z.string().describe("LaTeX"),
    cases: z
      .array(
        z.object({
          value: z.string().describe("The formula on this piece"),
          when: z.string().optional().describe("Where it applies; absent for 'otherwise'"),
        }),
      )
      .optional()
      .describe("The pieces of a piecewise formula"),
  })
  .describe("A formula");

export const CatalogEntry = z.object({
  name: z.string().describe("The op's name, as used in layers, expressions and graphs"),
  category: z.string().describe("activation, function or loss"),
  description: z.string().describe("In one line"),
  operands: z.array(z.string()).describe("Its operands in order (a loss takes target, then prediction)"),
  attributes: z
    .array(
      z
        .object({
          name: z.string().describe("Attribute name"),
          type: z.string().describe("number, axis or choice"),
          default: z.union([z.number(), z.string(), z.null()]).describe("Its default"),
          description: z.string().describe("What it does"),
        })
        .passthrough(),
    )
    .describe("Its attributes, with defaults"),
  evaluable: z.boolean().describe("Whether POST /v1/functions/{name}/evaluate takes it"),
  formula: DocFormula.describe("f(x); for a loss ℓ(y, p) per entry"),
  derivative: DocFormula.describe("f'(x); for a loss ∂ℓ/∂p"),
  secondDerivative: DocFormula.optional().describe("f''(x); for a loss ∂²ℓ/∂p²"),
  range: z.string().describe("The values f takes"),
  derivativeExtrema: z
    .array(
      z.object({
        kind: z.enum(["maximum", "minimum", "supremum", "infimum", "unbounded"]).describe("What kind of extremum"),
        value: z.number().optional().describe("Its value (absent when unbounded)"),
        where: z.string().describe("Where it is reached or approached"),
        at: z.number().optional().describe("The point where it is reached, when it is one point"),
      }),
    )
    .describe("Where the derivative is largest and smallest"),
  atKink: z.string().optional().describe("What the derivative is at a kink, and why"),
});

export const Catalog = z
  .object({ functions: z.array(CatalogEntry).describe("Every activation, function and loss the core knows") })
  .describe("The catalog, generated from the op registry");

export const EvaluateRequest = z
  .strictObject({
    points: z
      .array(FiniteNumber)
      .min(1, "give at least one point")
      .max(10_000, "at most 10000 points")
      .describe("Where to evaluate: x, or for a loss the prediction p"),
    target: FiniteNumber.optional().describe("For a loss: the target y (default 1)"),
    attributes: z
      .record(z.string(), z.union([FiniteNumber, z.string(), z.null()]))
      .optional()
      .describe('The op\'s attributes, such as {"slope": 0.2} for leaky_relu'),
  })
  .meta({
    description: "Points at which to evaluate f, f' and f''",
    "x-examples": {
      sigmoid: { summary: "Where is σ' largest?", value: { points: [-4, -2, -1, 0, 1, 2, 4] } },
    },
  });

export const EvaluateResponse = z.object({
  name: z.string().describe("The function"),
  points: z.array(z.number()).describe("The points, as given"),
  f: z.array(z.number()).describe("f at each point"),
  df: z.array(z.number()).describe("f' at each point, from the op's backward"),
  d2f: z.array(z.number()).describe("f'' at each point"),
});
