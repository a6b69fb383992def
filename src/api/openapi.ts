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
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "An API key from the server's API_KEYS, sent as Authorization: Bearer <key>",
        },
      },
    },
    tags: [
      { name: "gradients", description: "Forward and backward passes" },
      { name: "training", description: "Several optimizer steps, and grading of submitted answers" },
      { name: "functions", description: "The catalog of activations, functions and losses" },
      { name: "operations", description: "Health and documentation" },
    ],
  },
  // Every /v1 operation accepts a bearer key, and needs one when the server sets API_KEYS: declaring it lets
  // Swagger UI's Authorize button send it. The empty alternative says that an open server needs none.
  transform: (route) => {
    const transformed = jsonSchemaTransform(route);
    if (!route.url.startsWith("/v1/")) return transformed;
    return { ...transformed, schema: { ...transformed.schema, security: [{ bearerAuth: [] }, {}] } };
  },
  transformObject: jsonSchemaTransformObject,
};

/** The document exactly as committed in openapi/openapi.json: stable formatting, trailing newline. */
export function openapiDocument(app: { swagger: () => unknown }): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}
