import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Compute } from "../compute.js";
import { jsonOrPicture } from "../schemas/analysis.js";
import { ExpressionsRequest, ExpressionsResponse } from "../schemas/expressions.js";
import { problemResponses } from "../schemas/problem.js";
import { taskUrls } from "../tasks.js";

export const expressionsRoute: FastifyPluginAsyncZod<{ compute: Compute }> = async (app, { compute }) => {
  app.post(
    taskUrls.expressions,
    {
      schema: {
        summary: "Value and gradients of any computation, written as math or as an explicit graph",
        description:
          "Evaluates the expression (or graph) with the given parameters and constants, differentiates its scalar output with respect to every parameter and every named value, and, given learningRate, takes one gradient-descent step. Parse errors give the line and column.",
        tags: ["gradients"],
        body: ExpressionsRequest,
        response: {
          200: jsonOrPicture(
            ExpressionsResponse,
            "The output, every named value, the gradients and the updated parameters",
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => compute({ route: "expressions", body: request.body }, reply),
  );
};
