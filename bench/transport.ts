/**
 * Issue 6, target 3: the mid-size request end to end. The 784-256-10 MLP request (sigmoid hidden layer,
 * cross_entropy, batch 128; about 6.2 MB of JSON, an 8.5 MB response) is POSTed to the built server
 * (`node dist/server.js`, LOG_LEVEL=silent, default pool: it runs in a worker) over loopback, one request
 * at a time; against that, in this process from dist/, JSON.parse of the same request text, JSON.stringify
 * of the same response and the compute step through the core (compileNetwork and solve, the WebAssembly
 * kernel on one thread as in a pool worker). Then every step the server takes on the way, timed in process,
 * and a CPU profile of the server's event loop during the requests, to say where the difference goes.
 *
 * Writes bench/results/transport.md. `npm run bench:transport` (after `npm run build`); about a minute.
 */
import os from "node:os";
import type * as Budget from "../src/api/budget.js";
import type * as Json from "../src/api/json.js";
import type * as Pieces from "../src/api/json-pieces.js";
import type * as Limits from "../src/api/limits.js";
import type * as Networks from "../src/api/networks.js";
import type * as Schemas from "../src/api/schemas/gradients.js";
import type * as Tasks from "../src/api/tasks.js";
import type * as Validation from "../src/api/validation.js";
import type * as App from "../src/app.js";
import type * as Kernels from "../src/core/kernels/gemm-wasm.js";
import type * as Problem from "../src/core/problem.js";
import { measure } from "./measure.js";
import { phases, profiled, startProfiledGradserve } from "./profile.js";
import {
  builtModule,
  loadNote,
  MLP,
  mb,
  median,
  mlpRequest,
  ms,
  post,
  startBare,
  startGradserve,
  table,
  times,
  verdict,
  writeSection,
} from "./support.js";

const { DEFAULT_BODY_LIMIT } = await builtModule<typeof App>("app.js");
const { budget } = await builtModule<typeof Budget>("api/budget.js");
const { parseJsonBytes } = await builtModule<typeof Json>("api/json.js");
const { jsonPieces } = await builtModule<typeof Pieces>("api/json-pieces.js");
const { defaultLimits } = await builtModule<typeof Limits>("api/limits.js");
const { compiledSchema } = await builtModule<typeof Validation>("api/validation.js");
const { compileRequest } = await builtModule<typeof Networks>("api/networks.js");
const { GradientsRequest } = await builtModule<typeof Schemas>("api/schemas/gradients.js");
const { runTask } = await builtModule<typeof Tasks>("api/tasks.js");
const { configureWasmGemm, wasmGemm } = await builtModule<typeof Kernels>("core/kernels/gemm-wasm.js");
const { solve } = await builtModule<typeof Problem>("core/problem.js");

/** Median ms of fn: a few calls, since each here takes tens of milliseconds. */
const medianMs = (fn: () => unknown) => measure(fn, { minReps: 3, maxReps: 15, maxMs: 4000, warmup: 1 }).median;

const startLoad = os.loadavg()[0];
const request = mlpRequest();
const requestText = JSON.stringify(request);
const requestBytes = Buffer.byteLength(requestText);

// ------------------------------------------------------------------ in process: the baseline and the steps
// The pool's workers run the kernel on one thread (src/api/worker.ts); so does this baseline.
await configureWasmGemm({ threads: 1 });
const task = { route: "gradients" as const, body: GradientsRequest.parse(JSON.parse(requestText)) };
// What the worker admits with (src/api/worker.ts).
const inWorker = budget(defaultLimits, null);
const result = await runTask(task, inWorker);
if (!("json" in result)) throw new Error("expected a JSON result");
const responseText = JSON.stringify(result.json);
const responseBytes = Buffer.byteLength(responseText);
const inProcessLoss = (result.json as { loss: number }).loss;

const parseMs = medianMs(() => JSON.parse(requestText));
const stringifyMs = medianMs(() => JSON.stringify(result.json));
const compiled = compileRequest(task.body).compiled;
const computeMs = medianMs(() => solve(compileRequest(task.body).compiled));
const solveOnlyMs = medianMs(() => solve(compiled));
const baselineMs = parseMs + stringifyMs + computeMs;
console.log(
  `baseline: parse ${ms(parseMs)} + stringify ${ms(stringifyMs)} + compute ${ms(computeMs)} = ${ms(baselineMs)} ms`,
);

// Every step of the server's path, in the order it takes them (event loop: E, worker: W).
const requestBuffer = Buffer.from(requestText);
const parsed = JSON.parse(requestText);
const steps: { step: string; where: "event loop" | "worker"; ms: number }[] = [];
const step = (name: string, where: "event loop" | "worker", fn: () => unknown) => {
  steps.push({ step: name, where, ms: medianMs(fn) });
  console.log(`${name}: ${ms(steps[steps.length - 1].ms)} ms`);
};
step(
  "reading the body (api/json.ts parseJsonBytes: its number lists by the WebAssembly reader, the rest by parseJson)",
  "worker",
  () => parseJsonBytes(requestBuffer),
);
const validate = compiledSchema(GradientsRequest);
step("zod validation, the schema compiled (api/validation.ts compiledSchema)", "worker", () => validate(parsed));
step("runTask: decode, compile, admission, solve, response object, diagnostics", "worker", () =>
  runTask(task, inWorker),
);
step(
  "serializing the answer in 256 KiB pieces of UTF-8 (api/json-pieces.ts: numbers by the WebAssembly printer)",
  "worker",
  () => jsonPieces(result.json, 256 * 1024, () => undefined),
);
const inRunTask = {
  decodeCompile: medianMs(() => compileRequest(task.body)),
  solve: solveOnlyMs,
};
await configureWasmGemm({});

// ------------------------------------------------------------------ end to end over loopback
const server = await startGradserve({ LOG_LEVEL: "silent" }, "gradserve transport");
const e2e: number[] = [];
let firstMs = Number.NaN;
let serverLoss = Number.NaN;
try {
  const deadline = performance.now() + 60_000;
  for (let i = 0; i < 10 && (i < 4 || performance.now() < deadline); i++) {
    const r = await post(server.origin, "/v1/gradients", requestBuffer);
    if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.toString().slice(0, 300)}`);
    if (i === 0) {
      firstMs = r.ms;
      serverLoss = (JSON.parse(r.body.toString()) as { loss: number }).loss;
      if (r.responseBytes !== responseBytes)
        console.log(`response bytes differ: ${r.responseBytes} vs ${responseBytes}`);
    } else if (i >= 2) e2e.push(r.ms);
    console.log(`request ${i + 1}: ${ms(r.ms, 1)} ms`);
  }
} finally {
  await server.stop();
}
const e2eMs = median(e2e);

// The floor under any service: the same bytes in and out through bare Fastify, parsing and computing nothing.
const bare = await startBare();
const floor: number[] = [];
try {
  for (let i = 0; i < 10; i++) {
    const r = await post(bare.origin, "/raw", requestBuffer, { "x-response-bytes": String(responseBytes) });
    if (r.responseBytes !== responseBytes) throw new Error(`/raw answered ${r.responseBytes} bytes`);
    if (i >= 2) floor.push(r.ms);
  }
} finally {
  await bare.stop();
}
const floorMs = median(floor);
console.log(`bare Fastify moving the same bytes: ${ms(floorMs)} ms`);

// ------------------------------------------------------------------ the server's event loop, profiled
const prof = await startProfiledGradserve({ LOG_LEVEL: "silent" }, "profile transport");
let profileRows: ReturnType<typeof phases> | undefined;
let profiledRequests = 0;
try {
  for (let i = 0; i < 2; i++) await post(prof.server.origin, "/v1/gradients", requestBuffer);
  const { profile } = await profiled(prof.server, prof.file, async () => {
    for (let i = 0; i < 4; i++) {
      await post(prof.server.origin, "/v1/gradients", requestBuffer);
      profiledRequests++;
    }
  });
  profileRows = phases(profile);
} finally {
  await prof.server.stop();
}

// ------------------------------------------------------------------ the report
const lines: string[] = [];
const out = (s = "") => lines.push(s);
out("## The mid-size request end to end (issue 6, target 3)");
out();
out(
  `\`npm run bench:transport\` (bench/transport.ts). The request: ${MLP.inputs}-${MLP.hidden}-${MLP.outputs} MLP, sigmoid hidden layer, cross_entropy (mean), batch ${MLP.batch} in the rows layout, random float64 values written in full, no learningRate: **${mb(requestBytes)}** of JSON; its response **${mb(responseBytes)}**. End to end: POST /v1/gradients to the built server (\`node dist/server.js\`, LOG_LEVEL=silent, default pool, so the request runs in a worker) over a kept-alive loopback connection, one request at a time, sent from one prebuilt Buffer, from the first byte sent to the last byte received; median of ${e2e.length} after 2 warm-up requests (the first, which starts the worker, took ${ms(firstMs, 0)} ms). Baseline, in this process from dist/: JSON.parse of the same request text + JSON.stringify of the same response + the compute step (compileRequest and solve through the core, the forward and reverse pass with the input's gradient, WebAssembly kernel on one thread as in a pool worker); medians of bounded loops. The server's loss ${serverLoss === inProcessLoss ? "equals" : `DIFFERS from (${serverLoss} vs)`} the in-process one.`,
);
out();
out(
  table(
    ["", "ms"],
    [
      ["JSON.parse(request)", ms(parseMs, 1)],
      ["JSON.stringify(response)", ms(stringifyMs, 1)],
      ["compute step (decode + compile + solve)", ms(computeMs, 1)],
      ["**baseline: the sum**", `**${ms(baselineMs, 1)}**`],
      ["**end to end over loopback**", `**${ms(e2eMs, 1)}**`],
      ["end to end / baseline", `**${times(e2eMs / baselineMs)}**`],
    ],
  ),
);
out();
out("| target | measured | |");
out("| --- | --- | --- |");
out(
  `| end to end ≤ 1.3× (parse + serialize + compute) | ${times(e2eMs / baselineMs)} (${ms(e2eMs, 0)} vs ${ms(baselineMs, 0)} ms) | ${verdict(e2eMs <= 1.3 * baselineMs)} |`,
);
out(
  `| the body limit admits the request by default | BODY_LIMIT default ${DEFAULT_BODY_LIMIT} bytes (${mb(DEFAULT_BODY_LIMIT)}), request ${mb(requestBytes)}; configurable with BODY_LIMIT (README, Configuration) | ${verdict(requestBytes <= DEFAULT_BODY_LIMIT)} |`,
);
out();
out("### Where the end-to-end time goes");
out();
out(
  "The server's path for this request, each step timed in this process on the same data (medians); `worker` steps run on the pool's thread, the rest on the event loop. The body is above POOL_OFFLOAD_BYTES, so the event loop hands its bytes to a worker (transferred, not copied), which reads (its number lists with the WebAssembly reader, src/core/kernels/json-numbers.ts), validates and computes it, then serializes the answer (its numbers with the WebAssembly printer) in 256 KiB pieces, each moved to the event loop as it is written and sent from there while the next is serialized.",
);
out();
const sum = steps.reduce((a, s) => a + s.ms, 0);
out(
  table(
    ["step", "where", "ms"],
    [
      ...steps.map((s) => [s.step, s.where, ms(s.ms, 1)]),
      ["sum of the steps", "", ms(sum, 1)],
      [
        "the rest: HTTP, the hand-offs between threads, the client (end to end − sum; sending overlaps serializing)",
        "",
        ms(e2eMs - sum, 1),
      ],
      [
        `for comparison: the same ${mb(requestBytes)} in and ${mb(responseBytes)} out through bare Fastify (bench/bare-server.ts /raw: nothing parsed or computed), median of ${floor.length}`,
        "",
        ms(floorMs, 1),
      ],
    ],
  ),
);
out();
out(
  `Inside runTask: decode + compile ${ms(inRunTask.decodeCompile, 1)} ms, solve ${ms(inRunTask.solve, 1)} ms; the rest of it (${ms(
    (steps.find((s) => s.step.startsWith("runTask"))?.ms ?? 0) - inRunTask.decodeCompile - inRunTask.solve,
    1,
  )} ms) builds the response object (toRows of every matrix) and the diagnostics.`,
);
out();
if (profileRows) {
  out(
    `The server's event loop, profiled over ${profiledRequests} of these requests (sampled wall time per request; the worker's time shows as idle here):`,
  );
  out();
  out(
    table(
      ["phase (event loop)", "ms / request", "share of busy time"],
      profileRows.rows
        .filter((r) => r.ms / profiledRequests >= 0.05)
        .map((r) => [r.phase, ms(r.ms / profiledRequests, 1), `${(100 * r.share).toFixed(1)}%`]),
    ),
  );
  out();
  out(
    `Event loop idle (waiting for the worker, or for bytes): ${ms(profileRows.idleMs / profiledRequests, 1)} ms per request.`,
  );
  out();
}
out(`Kernel: ${wasmGemm() ? "WebAssembly SIMD" : "blocked JS (WebAssembly unavailable)"}. ${loadNote(startLoad)}`);
writeSection("transport", lines.join("\n"));
