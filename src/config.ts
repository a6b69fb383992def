import { z } from "zod";
import { defaultLimits } from "./api/limits.js";
import { defaultPool } from "./api/pool.js";
import { defaultProtection } from "./api/protection.js";
import { DEFAULT_BODY_LIMIT, DEFAULT_RESPONSE_CACHE_BYTES } from "./app.js";

const Port = z.coerce.number().int().min(0).max(65535);

/** "a, b,c" → ["a", "b", "c"]; unset or empty → []. */
const list = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  );

export const ConfigSchema = z.object({
  PORT: Port.default(3000).describe("TCP port to listen on"),
  HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Address to bind; 0.0.0.0 to accept connections from other hosts"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).default("json").describe("pretty prints human-readable lines (development)"),
  BODY_LIMIT: z.coerce.number().int().positive().default(DEFAULT_BODY_LIMIT).describe("Largest request body, in bytes"),
  MAX_EXPRESSION_LENGTH: z.coerce.number().int().positive().default(defaultLimits.expressionLength),
  MAX_GRAPH_NODES: z.coerce.number().int().positive().default(defaultLimits.graphNodes),
  MAX_PICTURE_NODES: z.coerce
    .number()
    .int()
    .positive()
    .default(defaultLimits.pictureNodes)
    .describe("Most graph nodes drawn as SVG (format svg); DOT text is not limited"),
  MAX_TRAIN_STEPS: z.coerce.number().int().positive().default(defaultLimits.trainSteps),
  API_KEYS: list.describe("Comma-separated bearer keys that /v1 requires; empty: open"),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(0).describe("Requests per client per window on /v1; 0: off"),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  CORS_ORIGINS: list.describe("Comma-separated origins allowed from browsers; empty: CORS off"),
  LOAD_SHED_EVENT_LOOP_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(defaultProtection.maxEventLoopDelayMs)
    .describe("Shed /v1 requests with 503 while the event loop lags more than this; 0: off"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  RESPONSE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(DEFAULT_RESPONSE_CACHE_BYTES)
    .describe("Memory for answers to identical requests; 0: off"),
  TRUST_PROXY: z
    .string()
    .default("")
    .transform((s): boolean | string[] => {
      const v = s.trim();
      if (v === "" || v === "false") return false;
      if (v === "true") return true;
      return v.split(",").map((x) => x.trim());
    })
    .describe("Proxies whose X-Forwarded-For to trust: true (any), or addresses/CIDRs; empty: none"),
  MAX_ELEMENTS: z.coerce.number().int().positive().default(defaultLimits.elements),
  MAX_MATRIX_DIM: z.coerce.number().int().positive().default(defaultLimits.matrixDim),
  MAX_FLOPS: z.coerce.number().positive().default(defaultLimits.flops),
  POOL_THREADS: z.coerce.number().int().min(0).default(defaultPool.threads).describe("0: compute on the event loop"),
  POOL_QUEUE: z.coerce.number().int().min(0).default(defaultPool.queue),
  POOL_OFFLOAD_FLOPS: z.coerce.number().min(0).default(defaultPool.offloadAboveFlops),
  POOL_OFFLOAD_BYTES: z.coerce.number().int().min(0).default(defaultPool.offloadAboveBytes),
  COMPUTE_DEADLINE_MS: z.coerce.number().int().positive().default(defaultPool.deadlineMs),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Reads the configuration from the environment; a bad value is a list of messages, one per variable. */
export function readConfig(env: NodeJS.ProcessEnv): { config: Config } | { errors: string[] } {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return { config: parsed.data };
  return {
    errors: parsed.error.issues.map(
      (i) => `${i.path.join(".")}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`,
    ),
  };
}
