import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

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
};
