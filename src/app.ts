import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { installResponseCache } from "./api/cache.js";
import { computeWith } from "./api/compute.js";
import { installJsonParser } from "./api/json.js";
import { defaultLimits, type Limits } from "./api/limits.js";
import { openapiOptions } from "./api/openapi.js";
import { createPool, defaultPool, POOL_THREAD_NICE, type PoolOptions } from "./api/pool.js";
import { installProblemHandlers, problemFromFramework } from "./api/problems.js";
import { addDocumentHeaders, defaultProtection, installProtection, type Protection } from "./api/protection.js";
import { expressionsRoute } from "./api/routes/expressions.js";
import { functionsRoute } from "./api/routes/functions.js";
import { gradeRoute } from "./api/routes/grade.js";
import { gradientsRoute } from "./api/routes/gradients.js";
import { healthRoute } from "./api/routes/health.js";
import { trainRoute } from "./api/routes/train.js";
import { taskUrls } from "./api/tasks.js";
import { validatorCompiler } from "./api/validation.js";

export interface AppOptions {
  readonly logger?: FastifyServerOptions["logger"];
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit?: number;
  readonly limits?: Partial<Limits>;
  readonly protection?: Partial<Protection>;
  readonly pool?: Partial<PoolOptions>;
  /** Bytes of answers kept for identical requests; 0 turns the cache off. */
  readonly responseCacheBytes?: number;
  /** Behind a load balancer: which proxies' X-Forwarded-For to believe, so that rate limits see clients. */
  readonly trustProxy?: FastifyServerOptions["trustProxy"];
}

declare module "fastify" {
  interface FastifyInstance {
    lifecycle: {
      /** Set when the server starts shutting down: /readyz fails and every response closes its connection. */
      draining: boolean;
      /**
       * Requests received since the start: a drain closes idle connections only once this stops moving, since
       * an idle-looking connection may hold a request not yet read.
       */
      arrivals: number;
    };
  }
}

/** 64 MiB of answers: many thousands of homework problems, and no answer larger than 4 MiB is kept. */
export const DEFAULT_RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/** 16 MiB: room for an MNIST-sized network with a batch of data, far above any homework problem. */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Builds the whole service without listening, so that tests and the OpenAPI writer use the real thing. */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestIdHeader: "x-request-id",
    trustProxy: options.trustProxy ?? false,
    genReqId: () => randomUUID(),
    // Closing stops accepting connections and leaves open ones to the drain in server.ts: a connection whose
    // request is still in the socket buffer looks idle, and closing it would drop a request in flight.
    forceCloseConnections: false,
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: true }),
    // Errors the router raises before any route (a path parameter too long, bad percent-encoding) are
    // problems like every other error.
    frameworkErrors: (error, request, reply) => problemFromFramework(error, request, reply),
    // The problem body is written from the issues themselves (problems.ts); Fastify's own message would join
    // every issue's text into one string, megabytes for a large matrix of wrong values.
    schemaErrorFormatter: (_errors, dataVar) => new Error(`the ${dataVar} does not match the schema`),
  }).withTypeProvider<ZodTypeProvider>();
  app.decorate("lifecycle", { draining: false, arrivals: 0 });
  // The level is set once, at start: a request's log objects (and its elapsed time) are not even built when
  // they would be dropped. (pino has isLevelEnabled; the logger Fastify makes for `logger: false` has neither
  // it nor a level.)
  const logger = app.log as { isLevelEnabled?: (level: string) => boolean };
  const logs = (level: "debug" | "info") => logger.isLevelEnabled?.(level) ?? false;
  const logsIncoming = logs("debug");
  const logsCompleted = logs("info");
  // Hooks on every request are written with callbacks, not async functions: at homework size each promise
  // is a measurable share of a request's time.
  app.addHook("onRequest", (request, _reply, done) => {
    app.lifecycle.arrivals++;
    if (logsIncoming) request.log.debug({ req: request }, "incoming request");
    done();
  });
  // One line per request, with the request and the response: half the logging of Fastify's two lines. Without
  // it there is no onResponse hook at all: with one, Fastify listens for every response's end and times it,
  // about 1.5 µs of a homework request (a tenth of it).
  if (logsCompleted) {
    app.addHook("onResponse", (request, reply, done) => {
      request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, "request completed");
      done();
    });
  }

  app.setValidatorCompiler(validatorCompiler);
  // Responses are built by our own code from finite float64 values, so they are stringified as they are;
  // the response schemas document them and the tests check responses against them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    if (app.lifecycle.draining) reply.header("connection", "close");
    done(null, payload);
  });
  const limits = { ...defaultLimits, ...options.limits };
  const poolOptions = { ...defaultPool, ...options.pool };
  const pool =
    poolOptions.threads > 0
      ? createPool(poolOptions, { limits, nice: POOL_THREAD_NICE }, (error) =>
          app.log.error({ err: error }, "a pool worker failed outside a task"),
        )
      : null;
  app.addHook("onClose", async () => pool?.close());

  installProblemHandlers(app);
  await installProtection(app, { ...defaultProtection, ...options.protection });
  const known = installResponseCache(app, options.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES);
  installJsonParser(app, {
    unparsed: pool && { aboveBytes: poolOptions.offloadAboveBytes, urls: new Set(Object.values(taskUrls)) },
    known,
  });

  await app.register(swagger, openapiOptions);
  // Swagger UI's pages are HTML: they get the security headers for documents, and their own
  // Content-Security-Policy, one that lets them load their scripts.
  await app.register(async (docs) => {
    addDocumentHeaders(docs);
    await docs.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  const compute = computeWith(limits, pool, poolOptions);

  await app.register(healthRoute);
  await app.register(gradientsRoute, { compute });
  await app.register(expressionsRoute, { compute });
  await app.register(trainRoute, { compute });
  await app.register(gradeRoute, { compute });
  await app.register(functionsRoute);
  return app;
}
