import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { installJsonParser } from "./api/json.js";
import { defaultLimits, type Limits } from "./api/limits.js";
import { openapiOptions } from "./api/openapi.js";
import { installProblemHandlers, problem, sendProblem } from "./api/problems.js";
import { defaultProtection, installProtection, type Protection } from "./api/protection.js";
import { expressionsRoute } from "./api/routes/expressions.js";
import { functionsRoute } from "./api/routes/functions.js";
import { gradeRoute } from "./api/routes/grade.js";
import { gradientsRoute } from "./api/routes/gradients.js";
import { healthRoute } from "./api/routes/health.js";
import { trainRoute } from "./api/routes/train.js";

export interface AppOptions {
  readonly logger?: FastifyServerOptions["logger"];
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit?: number;
  readonly limits?: Partial<Limits>;
  readonly protection?: Partial<Protection>;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Set when the server starts shutting down: /readyz fails and new API requests are turned away. */
    lifecycle: { draining: boolean };
  }
}

/** 16 MiB: room for an MNIST-sized network with a batch of data, far above any homework problem. */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Builds the whole service without listening, so that tests and the OpenAPI writer use the real thing. */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // Requests that arrive while closing get our own problem+json 503 (below), not Fastify's plain one.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.decorate("lifecycle", { draining: false });

  app.setValidatorCompiler(validatorCompiler);
  // Responses are built by our own code from finite float64 values, so they are stringified as they are;
  // the response schemas document them and the tests check responses against them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  installProblemHandlers(app);
  installJsonParser(app);
  app.addHook("onRequest", async (request, reply) => {
    if (!app.lifecycle.draining || !request.url.startsWith("/v1/")) return;
    reply.header("connection", "close").header("retry-after", 1);
    return sendProblem(reply, problem("shutting-down", "The server is shutting down; retry on another instance"));
  });
  await installProtection(app, { ...defaultProtection, ...options.protection });

  await app.register(swagger, openapiOptions);
  // Swagger UI's pages carry their own Content-Security-Policy, one that lets them load their scripts.
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoute);
  await app.register(gradientsRoute);
  const limits = { ...defaultLimits, ...options.limits };
  await app.register(expressionsRoute, { limits });
  await app.register(trainRoute, { limits });
  await app.register(gradeRoute);
  await app.register(functionsRoute);
  return app;
}
