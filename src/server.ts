import { buildApp } from "./app.js";
import { readConfig } from "./config.js";

const result = readConfig(process.env);
if ("errors" in result) {
  for (const e of result.errors) console.error(`gradserve: invalid configuration: ${e}`);
  process.exit(2);
}
const { config } = result;

const app = await buildApp({
  bodyLimit: config.BODY_LIMIT,
  trustProxy: config.TRUST_PROXY,
  responseCacheBytes: config.RESPONSE_CACHE_BYTES,
  limits: {
    expressionLength: config.MAX_EXPRESSION_LENGTH,
    graphNodes: config.MAX_GRAPH_NODES,
    pictureNodes: config.MAX_PICTURE_NODES,
    trainSteps: config.MAX_TRAIN_STEPS,
    elements: config.MAX_ELEMENTS,
    matrixDim: config.MAX_MATRIX_DIM,
    flops: config.MAX_FLOPS,
  },
  pool: {
    threads: config.POOL_THREADS,
    queue: config.POOL_QUEUE,
    offloadAboveFlops: config.POOL_OFFLOAD_FLOPS,
    offloadAboveBytes: config.POOL_OFFLOAD_BYTES,
    deadlineMs: config.COMPUTE_DEADLINE_MS,
  },
  protection: {
    apiKeys: config.API_KEYS,
    rateLimit: { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS },
    corsOrigins: config.CORS_ORIGINS,
    maxEventLoopDelayMs: config.LOAD_SHED_EVENT_LOOP_DELAY_MS,
  },
  // Silent means no logger at all: even a silent pino builds a child logger for every request.
  logger:
    config.LOG_LEVEL === "silent"
      ? false
      : {
          level: config.LOG_LEVEL,
          // Keys must never reach the logs, whatever a serializer is later changed to include.
          redact: ["req.headers.authorization", "req.headers.cookie"],
          ...(config.LOG_FORMAT === "pretty" ? { transport: { target: "pino-pretty" } } : {}),
        },
});

/**
 * Graceful shutdown: fail readiness, stop accepting connections, serve every request already sent (each
 * response closes its connection), close idle connections once requests stop arriving, then exit 0;
 * exit 1 if that takes longer than SHUTDOWN_TIMEOUT_MS.
 */
function shutdown(signal: NodeJS.Signals): void {
  if (app.lifecycle.draining) return;
  app.lifecycle.draining = true;
  app.log.info({ signal }, "shutting down: finishing requests in flight");
  setTimeout(() => {
    app.log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown timed out");
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_MS).unref();
  // An idle connection may hold a request not yet read; after a turn of the event loop's poll phase it has
  // been read and has arrived. So idle connections are closed only when no request arrived in the last
  // interval, nor in the turn after it. A connection whose request is being served is not idle (node:http
  // leaves it open until its response is written, and that response closes it).
  let seen = app.lifecycle.arrivals;
  setInterval(() => {
    const quiet = app.lifecycle.arrivals === seen;
    seen = app.lifecycle.arrivals;
    if (!quiet) return;
    setImmediate(() => {
      if (app.lifecycle.arrivals === seen) app.server.closeIdleConnections();
    });
  }, 50).unref();
  app.close().then(
    () => process.exit(0),
    (err: unknown) => {
      app.log.error({ err }, "error while closing");
      process.exit(1);
    },
  );
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);

try {
  await app.listen({ port: config.PORT, host: config.HOST });
} catch (err) {
  app.log.fatal({ err }, "could not start");
  process.exit(1);
}
