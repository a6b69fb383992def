import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Compute } from "../compute.js";
import { problemResponses } from "../schemas/problem.js";
import { TrainRequest, TrainResponse } from "../schemas/train.js";
import { taskUrls } from "../tasks.js";

export const trainRoute: FastifyPluginAsyncZod<{ compute: Compute }> = async (app, { compute }) => {
  app.post(
    taskUrls.train,
    {
      schema: {
        summary: "Several steps of SGD, Adam, RMSprop or Adagrad on any problem",
        description:
          "Trains a network, expression or graph with one of PyTorch's optimizers (same defaults and update rules), optionally on mini-batches in the data's order. Returns the loss per step, the final parameters in the request's form, and the optimizer's state to continue the run. One step of plain SGD equals the updatedNetwork of /v1/gradients exactly.",
        tags: ["training"],
        body: TrainRequest,
        response: { 200: TrainResponse.describe("Losses, final parameters and optimizer state"), ...problemResponses },
      },
    },
    async (request, reply) => compute({ route: "train", body: request.body }, reply),
  );
};
