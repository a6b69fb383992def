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
  limits: {
    expressionLength: config.MAX_EXPRESSION_LENGTH,
    graphNodes: config.MAX_GRAPH_NODES,
    trainSteps: config.MAX_TRAIN_STEPS,
  },
  logger: {
    level: config.LOG_LEVEL,
    ...(config.LOG_FORMAT === "pretty" ? { transport: { target: "pino-pretty" } } : {}),
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, "shutting down");
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

try {
  await app.listen({ port: config.PORT, host: config.HOST });
} catch (err) {
  app.log.fatal({ err }, "could not start");
  process.exit(1);
}
