import type { z } from "zod";
import { type Picture, picture } from "./analysis.js";
import type { Budget, Description } from "./budget.js";
import { expressionResponse, solveExpressionRequest } from "./expressions.js";
import { grade, gradescope } from "./grading.js";
import { parseJsonBytes } from "./json.js";
import { gradientsResponse, solveNetworkRequest } from "./networks.js";
import { InvalidBody } from "./problems.js";
import { ExpressionsRequest, type ExpressionsRequestBody } from "./schemas/expressions.js";
import { GradeRequest, type GradeRequestBody } from "./schemas/grade.js";
import { GradientsRequest, type GradientsRequestBody } from "./schemas/gradients.js";
import { TrainRequest, type TrainRequestBody } from "./schemas/train.js";
import { runTraining } from "./training.js";
import { compiledSchema } from "./validation.js";

/** A validated request of a compute route: what runs on the event loop, or in a worker when it is heavy. */
export type Task =
  | { readonly route: "gradients"; readonly body: GradientsRequestBody }
  | { readonly route: "expressions"; readonly body: ExpressionsRequestBody }
  | { readonly route: "train"; readonly body: TrainRequestBody }
  | { readonly route: "grade"; readonly body: GradeRequestBody; readonly format: "json" | "gradescope" };

export type TaskResult = { readonly json: unknown } | { readonly picture: Picture };

export type TaskRoute = Task["route"];

/** The URL of each compute route. */
export const taskUrls: Record<TaskRoute, string> = {
  gradients: "/v1/gradients",
  expressions: "/v1/expressions",
  train: "/v1/train",
  grade: "/v1/grade",
};

/** Each compute route's body schema: what its route validates, and what parseTask validates with. */
export const requestSchemas = {
  gradients: GradientsRequest,
  expressions: ExpressionsRequest,
  train: TrainRequest,
  grade: GradeRequest,
} satisfies { [R in TaskRoute]: z.ZodType<Extract<Task, { route: R }>["body"]> };

/** A compute request whose body is still the bytes that arrived (a large body, for the worker pool). */
export interface UnparsedTask {
  readonly route: TaskRoute;
  readonly bytes: Uint8Array;
  readonly format?: "json" | "gradescope";
}

/** Parses and validates an unparsed request exactly as the event loop does a small one. */
export function parseTask({ route, bytes, format }: UnparsedTask): Task {
  const parsed = compiledSchema<Task["body"]>(requestSchemas[route])(parseJsonBytes(bytes));
  if (!parsed.success) throw new InvalidBody(parsed.error.issues);
  const body = parsed.data;
  return (route === "grade" ? { route, body, format: format ?? "json" } : { route, body }) as Task;
}

/** What a request asks to have described of its graph: an SVG picture, DOT text, or an explanation. */
function describedAs({
  format = "json",
  explain,
}: {
  format?: "json" | "svg" | "dot" | "chart";
  explain?: boolean;
}): Description | undefined {
  if (format === "svg" || format === "dot") return format;
  return format === "json" && explain ? "explanation" : undefined;
}

/** Runs a task to its response: the one function both the event loop and the worker pool call. */
export async function runTask(task: Task, budget: Budget): Promise<TaskResult> {
  switch (task.route) {
    case "gradients": {
      const solved = solveNetworkRequest(task.body, budget, describedAs(task.body));
      const { format, digits } = task.body;
      if (format && format !== "json")
        return { picture: await picture(solved.target, solved.solution, format, digits) };
      return { json: gradientsResponse(solved, task.body) };
    }
    case "expressions": {
      const solved = solveExpressionRequest(task.body, budget, describedAs(task.body));
      const { format, digits } = task.body;
      if (format && format !== "json")
        return { picture: await picture(solved.target, solved.solution, format, digits) };
      return { json: expressionResponse(solved, task.body) };
    }
    case "train":
      return { json: runTraining(task.body, budget) };
    case "grade": {
      const graded = grade(task.body, budget);
      if (task.format !== "gradescope") return { json: graded };
      const results = graded.results.map(gradescope);
      return { json: task.body.submission !== undefined ? results[0] : results };
    }
  }
}
