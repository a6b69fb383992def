import { z } from "zod";
import { gradeExamples } from "../examples.js";
import { checkExpressionProblem, expressionProblemShape } from "./expressions.js";
import { networkProblemShape } from "./gradients.js";
import { trainingShape } from "./train.js";
import { FiniteNumber } from "./values.js";

const learningRate = FiniteNumber.optional().describe(
  "One gradient-descent step of this size, as in the compute endpoints",
);

export const GradedProblem = z
  .union([
    z.strictObject({ ...networkProblemShape, learningRate }),
    z.strictObject({ ...expressionProblemShape, learningRate }).superRefine(checkExpressionProblem),
    z.strictObject({ ...networkProblemShape, ...trainingShape }),
    z.strictObject({ ...expressionProblemShape, ...trainingShape }).superRefine(checkExpressionProblem),
  ])
  .describe(
    "The problem, in any form POST /v1/gradients, /v1/expressions or /v1/train accepts (without the analysis options); it is computed once for all submissions",
  );

const Submission = z
  .record(z.string(), z.unknown())
  .describe(
    'A student\'s answers: any part of the response the problem\'s endpoint gives, in the same structure, e.g. {"loss": 3.3, "gradients": {"layer1": {"weight": [[0.4, 6.2], [6, 4.2]]}}}',
  );

export const Tolerance = z
  .union([
    z.strictObject({
      rtol: z.number().min(0).describe("Relative tolerance"),
      atol: z.number().min(0).describe("Absolute tolerance"),
    }),
    z.strictObject({
      digits: z.number().int().min(1).max(15).describe("Right when within half a unit in this significant figure"),
    }),
  ])
  .describe("When a number counts as right: |s - e| ≤ atol + rtol·|e| (PrairieLearn's rule), or significant figures");

export const GradeRequest = z
  .strictObject({
    problem: GradedProblem,
    submission: Submission.optional(),
    submissions: z
      .array(Submission)
      .min(1)
      .max(1000)
      .optional()
      .describe("Many students' answers to the same problem, graded in order"),
    items: z
      .array(
        z.union([
          z.string().describe("A JSON pointer into the response, such as /gradients/layer1/weight"),
          z.strictObject({
            path: z.string().describe("A JSON pointer into the response"),
            weight: z.number().positive().describe("Its points"),
          }),
        ]),
      )
      .min(1)
      .optional()
      .describe("What to grade, each worth 1 point unless weighted; default every item a submission contains"),
    tolerance: Tolerance.optional().describe(
      "Default {rtol: 0.01, atol: 1e-8}: accepts answers rounded to 3 significant figures",
    ),
  })
  .superRefine((body, ctx) => {
    if ((body.submission === undefined) === (body.submissions === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: "give exactly one of submission or submissions" });
    }
  })
  .meta({ description: "A problem and one or many submissions to grade against it", "x-examples": gradeExamples });

const Entry = z.object({
  row: z.number().int().describe("Row (1-based)"),
  column: z.number().int().describe("Column (1-based)"),
  expected: z.number().describe("The exact value"),
  submitted: z.number().describe("The submitted value"),
  absError: z
    .number()
    .describe("|submitted - expected|; float64's largest number (1.7976931348623157e308) where that overflows"),
  relError: z
    .number()
    .describe(
      "|submitted - expected| / |expected| (1 for a nonzero answer where 0 is expected); float64's largest number where that overflows, as for an expected value near 0 such as 4e-323",
    ),
  correct: z.boolean().describe("Within tolerance"),
});

export const GradedItem = z.object({
  path: z.string().describe("The item, as a JSON pointer into the response"),
  weight: z.number().describe("Its points"),
  correct: z.boolean().describe("Whether every entry is within tolerance"),
  expected: z.unknown().optional().describe("The exact value (absent if gradserve computes no such item)"),
  submitted: z.unknown().optional().describe("The submitted value (absent if missing)"),
  entries: z.array(Entry).describe("Entry by entry; empty when the shapes differ or the item is missing"),
  feedback: z.array(z.string()).describe("What is wrong, in words that point at the mistake"),
});

export const GradeResult = z.object({
  score: z.number().describe("Points earned"),
  maxScore: z.number().describe("Points possible"),
  items: z.array(GradedItem).describe("Every graded item"),
});

export const GradeResponse = z.object({
  results: z.array(GradeResult).describe("One per submission, in order"),
});

export const GradescopeResult = z
  .object({
    score: z.number().describe("Points earned"),
    tests: z
      .array(
        z.object({
          name: z.string().describe("The item"),
          score: z.number().describe("Points earned"),
          max_score: z.number().describe("Points possible"),
          output: z.string().describe("Feedback for the student"),
        }),
      )
      .describe("One test per item"),
  })
  .describe("Gradescope's autograder results.json");

export type GradeRequestBody = z.infer<typeof GradeRequest>;
export type GradeResponseBody = z.infer<typeof GradeResponse>;
export type GradescopeBody = z.infer<typeof GradescopeResult>;
