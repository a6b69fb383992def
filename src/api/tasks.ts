import { type Picture, picture } from "./analysis.js";
import type { Budget } from "./budget.js";
import { expressionResponse, solveExpressionRequest } from "./expressions.js";
import { grade, gradescope } from "./grading.js";
import { gradientsResponse, solveNetworkRequest } from "./networks.js";
import type { ExpressionsRequestBody } from "./schemas/expressions.js";
import type { GradeRequestBody } from "./schemas/grade.js";
import type { GradientsRequestBody } from "./schemas/gradients.js";
import type { TrainRequestBody } from "./schemas/train.js";
import { runTraining } from "./training.js";

/** A validated request of a compute route: what runs on the event loop, or in a worker when it is heavy. */
export type Task =
  | { readonly route: "gradients"; readonly body: GradientsRequestBody }
  | { readonly route: "expressions"; readonly body: ExpressionsRequestBody }
  | { readonly route: "train"; readonly body: TrainRequestBody }
  | { readonly route: "grade"; readonly body: GradeRequestBody; readonly format: "json" | "gradescope" };

export type TaskResult = { readonly json: unknown } | { readonly picture: Picture };

/** Runs a task to its response: the one function both the event loop and the worker pool call. */
export async function runTask(task: Task, budget: Budget): Promise<TaskResult> {
  switch (task.route) {
    case "gradients": {
      const solved = solveNetworkRequest(task.body, budget);
      const { format, digits } = task.body;
      if (format && format !== "json")
        return { picture: await picture(solved.target, solved.solution, format, digits) };
      return { json: gradientsResponse(solved, task.body) };
    }
    case "expressions": {
      const solved = solveExpressionRequest(task.body, budget);
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
