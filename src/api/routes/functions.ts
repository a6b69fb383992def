import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { catalog, evaluateFunction } from "../../core/catalog.js";
import { Catalog, EvaluateRequest, EvaluateResponse } from "../schemas/functions.js";
import { problemResponses } from "../schemas/problem.js";

export const functionsRoute: FastifyPluginAsyncZod = async (app) => {
  // The registry does not change while the process runs, so its catalog is built once.
  const functions = catalog() as z.infer<typeof Catalog>["functions"];

  app.get(
    "/v1/functions",
    {
      schema: {
        summary: "The catalog: every activation, function and loss with its formulas and derivative extrema",
        tags: ["functions"],
        response: { 200: Catalog },
      },
    },
    async () => ({ functions }),
  );

  app.post(
    "/v1/functions/:name/evaluate",
    {
      schema: {
        summary: "f, f' and f'' of an elementwise function or loss at the given points",
        tags: ["functions"],
        params: z.object({
          name: z.string().describe(
            `The function: ${functions
              .filter((f) => f.evaluable)
              .map((f) => f.name)
              .join(", ")}`,
          ),
        }),
        body: EvaluateRequest,
        response: { 200: EvaluateResponse.describe("The values at each point"), ...problemResponses },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { points, target = 1, attributes = {} } = request.body;
      return { name, points, ...evaluateFunction(name, points, attributes, target) };
    },
  );
};
