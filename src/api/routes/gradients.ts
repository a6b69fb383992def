import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Compute } from "../compute.js";
import { jsonOrPicture } from "../schemas/analysis.js";
import { GradientsRequest, GradientsResponse } from "../schemas/gradients.js";
import { problemResponses } from "../schemas/problem.js";
import { taskUrls } from "../tasks.js";

export const gradientsRoute: FastifyPluginAsyncZod<{ compute: Compute }> = async (app, { compute }) => {
  app.post(
    taskUrls.gradients,
    {
      schema: {
        summary: "Forward pass, loss, gradients and one gradient-descent step of a layer-stack network",
        description:
          "Computes every layer's pre-activation and activation, the loss, ∂L/∂W and ∂L/∂b for every layer, ∂L/∂X, and, given learningRate, the network after one step of gradient descent. All arithmetic is float64.",
        tags: ["gradients"],
        body: GradientsRequest,
        response: {
          200: jsonOrPicture(
            GradientsResponse,
            "The forward pass, the loss, the gradients and, given learningRate, the updated network",
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => compute({ route: "gradients", body: request.body }, reply),
  );
};
