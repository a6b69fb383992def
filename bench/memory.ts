/**
 * Issue 6, target 5: memory. The built server (`node dist/server.js`, LOG_LEVEL=silent, default pool, its
 * worker started by a small heavy request first) serves the mid-size MLP request (POST /v1/gradients, 6.3 MB of JSON in, 8.4 MB out) several times, one at a time.
 * Around each request the benchmark reads the server process's VmRSS, resets its peak (VmHWM, by writing 5 to
 * /proc/PID/clear_refs) and reads the peak afterwards; then it watches RSS while the server idles. A second
 * server, with bench/profile-hook.mjs logging process.memoryUsage() every 25 ms, says what the peak is made of
 * on the main thread (heap, external strings and buffers), the rest being the worker thread and native memory.
 *
 * Writes bench/results/memory.md. `npm run bench:memory` (after `npm run build`); about 40 s.
 */
import { readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type * as Examples from "../src/api/examples.js";
import {
  builtModule,
  loadNote,
  mb,
  memoryOf,
  mlpRequest,
  ms,
  post,
  resetPeak,
  type Server,
  sleep,
  smallTrainRequest,
  startGradserve,
  table,
  times,
  verdict,
  writeSection,
} from "./support.js";

const REQUESTS = 6;
const PAUSE_MS = 1000;
const IDLE_CHECKS_S = [2, 5, 10];

const { homeworkExamples } = await builtModule<typeof Examples>("api/examples.js");
const homework = JSON.stringify(homeworkExamples.homework1.value);
const requestText = JSON.stringify(mlpRequest());
const requestBytes = Buffer.byteLength(requestText);

interface Served {
  readonly before: number;
  readonly peak: number;
  readonly rightAfter: number;
  readonly afterPause: number;
  readonly ms: number;
}

interface Run {
  /** RSS after the homework warm-up, before the worker thread exists. */
  readonly cold: number;
  /** RSS once the pool's worker has started and served a small heavy request: the baseline. */
  readonly base: number;
  readonly served: Served[];
  readonly idle: number[];
  readonly responseBytes: number;
}

async function serve(server: Server): Promise<Run> {
  for (let i = 0; i < 20; i++) await post(server.origin, "/v1/gradients", homework);
  await sleep(PAUSE_MS);
  const cold = memoryOf(server.pid).rss;
  // A small request above the pool's threshold starts the worker (its isolate, the WebAssembly module).
  const warm = await post(server.origin, "/v1/train", JSON.stringify(smallTrainRequest(20)));
  if (warm.status !== 200) throw new Error(`warm-up: ${warm.status} ${warm.body.toString().slice(0, 300)}`);
  await sleep(PAUSE_MS);
  const base = memoryOf(server.pid).rss;
  const served: Served[] = [];
  let responseBytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const before = memoryOf(server.pid).rss;
    if (!resetPeak(server.pid)) throw new Error("cannot reset VmHWM (/proc/PID/clear_refs)");
    const r = await post(server.origin, "/v1/gradients", requestText);
    if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.toString().slice(0, 300)}`);
    responseBytes = r.responseBytes;
    const now = memoryOf(server.pid);
    await sleep(PAUSE_MS);
    served.push({ before, peak: now.hwm, rightAfter: now.rss, afterPause: memoryOf(server.pid).rss, ms: r.ms });
    console.log(
      `request ${i + 1}: RSS ${ms(before, 0)} → peak ${ms(now.hwm, 0)} → ${ms(now.rss, 0)} → ${ms(served[i].afterPause, 0)} MiB after ${PAUSE_MS} ms (${ms(r.ms, 0)} ms)`,
    );
  }
  const idle: number[] = [];
  let waited = PAUSE_MS / 1000;
  for (const s of IDLE_CHECKS_S) {
    await sleep((s - waited) * 1000);
    waited = s;
    idle.push(memoryOf(server.pid).rss);
  }
  return { cold, base, served, idle, responseBytes };
}

const startLoad = os.loadavg()[0];
const server = await startGradserve({ LOG_LEVEL: "silent" }, "gradserve memory");
let run: Run;
try {
  run = await serve(server);
} finally {
  await server.stop();
}

// What the main thread holds at its peak: a second server logging process.memoryUsage().
const logFile = path.join(os.tmpdir(), `gradserve-bench-${process.pid}-memory.jsonl`);
const logged = await startGradserve({ LOG_LEVEL: "silent", BENCH_MEMORY_LOG: logFile }, "gradserve memory log", [
  "--import",
  "./bench/profile-hook.mjs",
]);
interface Usage {
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}
let usage: Usage[] = [];
try {
  await post(logged.origin, "/v1/train", JSON.stringify(smallTrainRequest(20)));
  await sleep(200);
  for (let i = 0; i < 3; i++) {
    await post(logged.origin, "/v1/gradients", requestText);
    await sleep(300);
  }
  usage = readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Usage);
} finally {
  await logged.stop();
  rmSync(logFile, { force: true });
}
const MiB = 2 ** 20;
const peakOf = (key: keyof Usage) => Math.max(...usage.map((u) => u[key])) / MiB;
const atRssPeak = usage.reduce((a, u) => (u.rss > a.rss ? u : a), usage[0]);

// ------------------------------------------------------------------ the report
const { cold, base, served, idle, responseBytes } = run;
const payloadMiB = (requestBytes + responseBytes) / MiB;
const budget = 4 * payloadMiB;
const rise = (s: Served) => s.peak - base;
const worst = Math.max(...served.map(rise));
const lastIdle = idle[idle.length - 1];
const retained = lastIdle - base;

const lines: string[] = [];
const out = (s = "") => lines.push(s);
out("## Memory of the mid-size request (issue 6, target 5)");
out();
out(
  `\`npm run bench:memory\` (bench/memory.ts). The built server (\`node dist/server.js\`, LOG_LEVEL=silent, default pool) after 20 homework requests and one small /v1/train request that starts the pool's worker thread; its RSS then is the **baseline, ${ms(base, 0)} MiB** (${ms(cold, 0)} MiB before the worker started). Then the MLP request of the transport benchmark (${mb(requestBytes)} in, ${mb(responseBytes)} out: ${ms(payloadMiB, 1)} MiB of JSON together, so the budget is 4× that, **${ms(budget, 0)} MiB**) ${REQUESTS} times, one at a time, ${PAUSE_MS / 1000} s apart, then ${IDLE_CHECKS_S[IDLE_CHECKS_S.length - 1]} s idle. RSS and peak RSS are the server process's VmRSS and VmHWM (/proc/PID/status: the whole process, event loop, worker thread and native memory); the peak is reset before each request (clear_refs). MiB throughout.`,
);
out();
out(
  table(
    [
      "MLP request",
      "RSS before",
      "peak during",
      "peak − baseline",
      "÷ JSON size",
      "RSS right after",
      `RSS ${PAUSE_MS / 1000} s after`,
      "ms",
    ],
    served.map((s, i) => [
      String(i + 1),
      ms(s.before, 0),
      ms(s.peak, 0),
      ms(rise(s), 0),
      times(rise(s) / payloadMiB),
      ms(s.rightAfter, 0),
      ms(s.afterPause, 0),
      ms(s.ms, 0),
    ]),
  ),
);
out();
out(`Idle after the last request: ${IDLE_CHECKS_S.map((s, i) => `${ms(idle[i], 0)} MiB at ${s} s`).join(", ")}.`);
out();
out(
  `Main thread at the RSS peak of a logged run (a second server with bench/profile-hook.mjs, the pool warmed the same way, 3 MLP requests, process.memoryUsage() every 25 ms): RSS ${ms(atRssPeak.rss / MiB, 0)}, V8 heap used ${ms(atRssPeak.heapUsed / MiB, 0)} of ${ms(atRssPeak.heapTotal / MiB, 0)}, external ${ms(atRssPeak.external / MiB, 0)} (array buffers ${ms(atRssPeak.arrayBuffers / MiB, 0)}); the largest each reached: heap used ${ms(peakOf("heapUsed"), 0)}, heap total ${ms(peakOf("heapTotal"), 0)}, external ${ms(peakOf("external"), 0)}. The rest of RSS is the worker thread's heap, code and native memory.`,
);
out();
out("| target | measured | |");
out("| --- | --- | --- |");
out(
  `| peak RSS rise ≤ 4× (request + response JSON) = ${ms(budget, 0)} MiB | worst ${ms(worst, 0)} MiB above the baseline (${times(worst / payloadMiB)} the JSON) | ${verdict(worst <= budget)} |`,
);
out(
  `| nothing retained: RSS returns to its level before the requests (within 10%, the soak test's criterion) | ${ms(lastIdle, 0)} MiB after ${IDLE_CHECKS_S[IDLE_CHECKS_S.length - 1]} s idle vs ${ms(base, 0)} MiB before: ${retained >= 0 ? "+" : ""}${ms(retained, 0)} MiB (${((100 * retained) / base).toFixed(0)}%) | ${verdict(retained <= 0.1 * base)} |`,
);
out();
out(loadNote(startLoad));
writeSection("memory", lines.join("\n"));
