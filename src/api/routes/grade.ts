import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Compute } from "../compute.js";
import { GradeRequest, GradeResponse, GradescopeResult } from "../schemas/grade.js";
import { problemResponses } from "../schemas/problem.js";
import { taskUrls } from "../tasks.js";

export const gradeRoute: FastifyPluginAsyncZod<{ compute: Compute }> = async (app, { compute }) => {
  app.post(
    taskUrls.grade,
    {
      schema: {
        summary: "Grade students' answers against the exact values, item by item, with feedback",
        description:
          "Computes the problem once, then grades every submitted item entry by entry with the tolerance, and says what each mistake looks like: a flipped sign, a transposed matrix, an update with the wrong sign, an update that follows from a wrong gradient, an entry off by a little. With ?format=gradescope the answer is Gradescope's results.json (an array of them for `submissions`).",
        tags: ["training"],
        querystring: z.object({
          format: z
            .enum(["json", "gradescope"])
            .optional()
            .describe("json (default), or gradescope for Gradescope's autograder results.json"),
        }),
        body: GradeRequest,
        response: {
          200: {
            description: "The graded submissions",
            content: {
              "application/json": {
                schema: z.union([GradeResponse, GradescopeResult, z.array(GradescopeResult)]),
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) =>
      compute({ route: "grade", body: request.body, format: request.query.format ?? "json" }, reply),
  );
};
