import { z } from "zod";
import { opNames } from "../../core/ops/registry.js";
import { expressionExamples } from "../examples.js";
import { AnalysisOptions, AnalysisResponse } from "./analysis.js";
import { FiniteNumber, Matrix, MatrixOrList, quoted } from "./values.js";

const Identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a name is a letter or _ followed by letters, digits or _")
  .max(64);

const Values = (what: string) =>
  z
    .record(Identifier, MatrixOrList)
    .describe(`${what}, by name: each a number, a matrix (array of rows), or a list of numbers (a column vector)`);

const ops = opNames() as [string, ...string[]];

const GraphNode = z
  .object({
    id: Identifier.describe("The node's name, used by other nodes' inputs and in the response"),
    op: z
      .enum(ops, { error: (i) => `unknown op ${quoted(i.input)}; valid: ${ops.join(", ")}` })
      .describe("The operation; the same names as the expression functions"),
    inputs: z
      .array(z.union([Identifier, FiniteNumber], { error: "an input is a name or a number" }))
      .describe("The operands in order: names of parameters, constants or other nodes, or numbers"),
  })
  .catchall(z.union([FiniteNumber, z.string(), z.null()]))
  .meta({
    description:
      'A node of the graph. Any further field is an attribute of the op, such as "axis": 0 for sum, "slope": 0.2 for leaky_relu or "reduction": "sum" for a loss.',
  });

/** The problem of an expression request: shared by /v1/expressions, /v1/train and /v1/grade. */
export const expressionProblemShape = {
  parameters: Values("The values to differentiate (and update, given learningRate)").optional(),
  constants: Values("Values used but not differentiated, such as inputs and targets").optional(),
  expression: z
    .string()
    .describe(
      "Statements separated by new lines or ;, each `name = expr` except that the last may be a bare expression, whose value is the output. Operators + - * / (elementwise, with broadcasting), @ (matrix product), ^ or ** (power), unary -, ' (transpose); function calls for every op, e.g. sigmoid(x), sum(x, 0), sse(Y, W @ X).",
    )
    .optional(),
  graph: z
    .strictObject({
      nodes: z.array(GraphNode).min(1, "a graph needs at least one node").describe("The nodes, in any order"),
      output: Identifier.describe("The id of the node to differentiate; it must be a scalar"),
    })
    .optional()
    .describe("The same computation as explicit nodes, for programs that generate problems"),
};

type ExpressionProblemInput = z.infer<z.ZodObject<typeof expressionProblemShape>>;

/** Exactly one of expression and graph, and no name both a parameter and a constant. */
export function checkExpressionProblem(body: ExpressionProblemInput, ctx: z.RefinementCtx): void {
  if ((body.expression === undefined) === (body.graph === undefined)) {
    ctx.addIssue({ code: "custom", path: [], message: "give exactly one of expression or graph" });
  }
  for (const name of Object.keys(body.constants ?? {})) {
    if (Object.hasOwn(body.parameters ?? {}, name)) {
      ctx.addIssue({
        code: "custom",
        path: ["constants", name],
        message: `'${name}' is both a parameter and a constant`,
      });
    }
  }
}

export const ExpressionsRequest = z
  .strictObject({
    ...expressionProblemShape,
    learningRate: FiniteNumber.optional().describe(
      "If given, the response includes updatedParameters: each parameter θ - learningRate·∂output/∂θ",
    ),
    ...AnalysisOptions,
  })
  .superRefine(checkExpressionProblem)
  .meta({
    description: "Parameters, constants, and the computation as expression text or as an explicit graph",
    "x-examples": expressionExamples,
  });

export const ExpressionsResponse = z.object({
  output: Matrix.describe("The value of the output (the last statement, or the graph's output node)"),
  values: z
    .record(z.string(), Matrix)
    .describe("The value of every assigned name in the order first assigned (every node of a graph, by id)"),
  gradients: z
    .record(z.string(), MatrixOrList)
    .describe("∂output/∂parameter for every parameter, in its shape and form"),
  valueGradients: z
    .record(z.string(), Matrix)
    .describe("∂output/∂value for every named value (zero where the output does not depend on it)"),
  updatedParameters: z
    .record(z.string(), MatrixOrList)
    .optional()
    .describe("With learningRate: every parameter after one gradient-descent step, in the form sent"),
  ...AnalysisResponse,
});

export type ExpressionsRequestBody = z.infer<typeof ExpressionsRequest>;
export type ExpressionsResponseBody = z.infer<typeof ExpressionsResponse>;
