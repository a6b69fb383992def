import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

export const openapiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: "3.1.0",
    info: {
      title: "gradserve",
      version: "0.1.0",
      description:
        "Exact float64 gradients for backpropagation problems: send a network and its data, get the forward pass, the loss, every weight's gradient and the updated weights. Errors are RFC 9457 problem+json.",
    },
    tags: [
      { name: "gradients", description: "Forward and backward passes" },
      { name: "training", description: "Several optimizer steps, and grading of submitted answers" },
      { name: "functions", description: "The catalog of activations, functions and losses" },
      { name: "operations", description: "Health and documentation" },
    ],
  },
  transform: jsonSchemaTransform,
  transformObject: jsonSchemaTransformObject,
};

/** The document exactly as committed in openapi/openapi.json: stable formatting, trailing newline. */
export function openapiDocument(app: { swagger: () => unknown }): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}
