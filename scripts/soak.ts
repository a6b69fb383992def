/**
 * A bounded soak test on loopback: `npm run soak [-- --seconds 60 --connections 50 --warmup 15 --cache-mib 16]`.
 * Starts the built server (its response cache at --cache-mib, which the warm-up fills),
 * warms it up, then sends a mix of every endpoint (two of them with a new body every time) with autocannon and checks that nothing failed and that the
 * resident memory after the run is within 10% of its level after the warm-up (each measured once the server
 * has settled). Exits non-zero otherwise.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { expressionExamples, gradeExamples, homeworkExamples, trainExamples } from "../src/api/examples.js";
import { nudge } from "../test/support/bodies.js";
import { freePort } from "../test/support/server.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    connections: { type: "string", default: "50" },
    warmup: { type: "string", default: "15" },
    // Small enough that the warm-up's new bodies fill the response cache: RSS is then compared between two
    // moments with the cache at its budget, so what grows is a leak and not the cache filling up.
    "cache-mib": { type: "string", default: "16" },
  },
});
const seconds = Math.min(600, Number(values.seconds));
const connections = Math.min(200, Number(values.connections));
const warmupSeconds = Math.min(60, Number(values.warmup));

const json = { "content-type": "application/json" };
const post = (path: string, body: unknown) => ({
  method: "POST" as const,
  path,
  headers: json,
  body: JSON.stringify(body),
});
let serial = 0;
/** A body never sent before, so that the response cache cannot answer and the whole path is exercised. */
const distinct = (path: string, body: (i: number) => unknown) => ({
  method: "POST" as const,
  path,
  headers: json,
  setupRequest: (request: object) => ({ ...request, body: JSON.stringify(body(serial++)) }),
});
const homework = homeworkExamples.homework1.value;
const expression = expressionExamples.homework1.value;
const mix = [
  distinct("/v1/gradients", (i) => ({ ...homework, input: nudge(homework.input, i) })),
  distinct("/v1/expressions", (i) => ({
    ...expression,
    constants: { ...expression.constants, X: nudge(expression.constants.X, i) },
  })),
  ...Object.values(homeworkExamples).map((e) => post("/v1/gradients", e.value)),
  post("/v1/gradients", { ...homeworkExamples.homework2.value, format: "svg" }),
  ...Object.values(expressionExamples).map((e) => post("/v1/expressions", e.value)),
  ...Object.values(trainExamples).map((e) => post("/v1/train", e.value)),
  post("/v1/grade", gradeExamples.homework1.value),
  post("/v1/grade?format=gradescope", gradeExamples.homework1.value),
  post("/v1/functions/sigmoid/evaluate", { points: [-2, -1, 0, 1, 2] }),
  { method: "GET" as const, path: "/v1/functions" },
  // Bad requests belong in the mix too: they must be 4xx, never 5xx.
  post("/v1/gradients", { network: { layers: [{ weight: [[1, 2], [3]] }], loss: "sse" }, input: 1, target: 1 }),
  post("/v1/expressions", { parameters: { a: 1 }, expression: "a +" }),
];

const port = await freePort();
const server = spawn(process.execPath, ["dist/server.js"], {
  env: {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    RESPONSE_CACHE_BYTES: String(Number(values["cache-mib"]) * 2 ** 20),
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const url = `http://127.0.0.1:${port}`;
const rssMiB = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
};
/**
 * Resident memory once the server has been idle a while: the least of samples over a few seconds, since
 * the garbage collector returns memory to the system at its own pace after a burst of load.
 */
async function settledRssMiB(seconds = 5): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < seconds * 2; i++) {
    await new Promise((r) => setTimeout(r, 500));
    least = Math.min(least, rssMiB());
  }
  return least;
}

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 100) throw new Error("the server did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const run = (duration: number) =>
    autocannon({ url, connections, duration, requests: mix, timeout: 30 }) as Promise<autocannon.Result>;

  console.log(`warming up for ${warmupSeconds} s …`);
  await run(warmupSeconds);
  const rssWarm = await settledRssMiB();
  console.log(`soaking: ${connections} connections, ${seconds} s, ${mix.length} kinds of request …`);
  const result = await run(seconds);
  const rssAfter = await settledRssMiB();

  const byStatus = Object.entries(result.statusCodeStats ?? {})
    .map(([code, s]) => `${code}: ${(s as { count: number }).count}`)
    .join(", ");
  const fivexx = result["5xx"];
  const growth = (rssAfter - rssWarm) / rssWarm;
  console.log(
    [
      `requests: ${result.requests.total} (${Math.round(result.requests.average)}/s), statuses ${byStatus}`,
      `latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
      `errors: ${result.errors}, timeouts: ${result.timeouts}, 5xx: ${fivexx}`,
      `RSS: ${rssWarm.toFixed(1)} MiB after warm-up, ${rssAfter.toFixed(1)} MiB after the run (${(growth * 100).toFixed(1)}%)`,
    ].join("\n"),
  );
  const ok = result.errors === 0 && result.timeouts === 0 && fivexx === 0 && growth <= 0.1;
  console.log(ok ? "soak passed" : "soak FAILED");
  process.exitCode = ok ? 0 : 1;
} finally {
  server.kill("SIGTERM");
}
