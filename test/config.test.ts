import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config.js";

describe("configuration from the environment", () => {
  it("has documented defaults", () => {
    expect(readConfig({})).toEqual({
      config: {
        PORT: 3000,
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        BODY_LIMIT: 16 * 1024 * 1024,
        MAX_EXPRESSION_LENGTH: 10_000,
        MAX_GRAPH_NODES: 10_000,
        MAX_PICTURE_NODES: 100,
        MAX_TRAIN_STEPS: 10_000,
        API_KEYS: [],
        RATE_LIMIT_MAX: 0,
        RATE_LIMIT_WINDOW_MS: 60_000,
        CORS_ORIGINS: [],
        LOAD_SHED_EVENT_LOOP_DELAY_MS: 1_000,
        SHUTDOWN_TIMEOUT_MS: 10_000,
        TRUST_PROXY: false,
        RESPONSE_CACHE_BYTES: 64 * 1024 * 1024,
        MAX_ELEMENTS: 8_000_000,
        MAX_MATRIX_DIM: 10_000,
        MAX_FLOPS: 1e12,
        // One core is left to the event loop.
        POOL_THREADS: Math.max(1, availableParallelism() - 1),
        POOL_QUEUE: 64,
        POOL_OFFLOAD_FLOPS: 2e7,
        POOL_OFFLOAD_BYTES: 64 * 1024,
        COMPUTE_DEADLINE_MS: 30_000,
      },
    });
  });

  it("reads and converts the variables", () => {
    const result = readConfig({
      PORT: "8080",
      HOST: "0.0.0.0",
      BODY_LIMIT: "1024",
      LOG_FORMAT: "pretty",
      API_KEYS: "alpha, beta,,gamma",
      TRUST_PROXY: "127.0.0.1, 10.0.0.0/8",
    });
    expect(result).toMatchObject({
      config: {
        PORT: 8080,
        HOST: "0.0.0.0",
        BODY_LIMIT: 1024,
        LOG_FORMAT: "pretty",
        API_KEYS: ["alpha", "beta", "gamma"],
      },
    });
  });

  it("names every bad variable and its value", () => {
    const result = readConfig({ PORT: "abc", LOG_LEVEL: "loud", BODY_LIMIT: "-5" });
    expect("errors" in result && result.errors.map((e) => e.split(":")[0])).toEqual([
      'PORT="abc"',
      'LOG_LEVEL="loud"',
      'BODY_LIMIT="-5"',
    ]);
  });

  it("makes the server exit non-zero with a clear message on a bad value", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
      env: { ...process.env, PORT: "70000" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('gradserve: invalid configuration: PORT="70000"');
  });
});
