import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { problem, sendProblem } from "../problems.js";
import { ProblemDetails } from "../schemas/problem.js";

export const healthRoute: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness: the process is up and serving",
        tags: ["operations"],
        response: { 200: z.object({ status: z.literal("ok").describe("Always ok when the process answers") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: whether a load balancer should send this instance requests (not while shutting down)",
        tags: ["operations"],
        response: {
          200: z.object({ status: z.literal("ready").describe("Ready for requests") }),
          503: {
            description: "Shutting down",
            content: { "application/problem+json": { schema: ProblemDetails } },
          },
        },
      },
    },
    async (_request, reply) => {
      if (app.lifecycle.draining) {
        return sendProblem(reply, problem("shutting-down", "This instance is shutting down"));
      }
      return { status: "ready" as const };
    },
  );
};
