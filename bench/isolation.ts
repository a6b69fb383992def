/**
 * Issue 6, target 4: isolation. The homework 1 request (POST /v1/gradients, every body distinct so that the
 * response cache answers none) at a steady 1000 requests/s
 * (autocannon, 10 connections), alone and then while 3 clients keep POSTing /v1/train requests that cost
 * about 2 s each and run in the worker pool: once with a small body (a 16-64-64-4 network, batch 256, many
 * steps: almost all compute) and once with the mid-size MLP body (784-256-10, batch 128, 6.3 MB of JSON, which
 * the event loop hands to the pool unparsed). The heavy clients run in a thread of their own. The built server (`node dist/server.js`,
 * LOG_LEVEL=silent, default pool: one worker thread on this 2-core machine).
 *
 * Writes bench/results/isolation.md. `npm run bench:isolation` (after `npm run build`); about 2 minutes.
 * Environment: BENCH_SECONDS (8), BENCH_WARMUP (3), BENCH_RATE (1000), BENCH_ROUNDS (2).
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import type * as Examples from "../src/api/examples.js";
import {
  builtModule,
  type LoadResult,
  load,
  loadNote,
  mb,
  median,
  mlpRequest,
  ms,
  nudge,
  post,
  type Server,
  sleep,
  smallTrainRequest,
  startGradserve,
  table,
  times,
  verdict,
  writeSection,
} from "./support.js";

const seconds = Math.min(60, Number(process.env.BENCH_SECONDS ?? 8));
const warmupSeconds = Math.min(30, Number(process.env.BENCH_WARMUP ?? 3));
const rate = Math.min(20_000, Number(process.env.BENCH_RATE ?? 1000));
const rounds = Math.max(1, Math.min(5, Number(process.env.BENCH_ROUNDS ?? 2)));
const heavyClients = 3;
const targetHeavyMs = 2000;

const { homeworkExamples } = await builtModule<typeof Examples>("api/examples.js");
const hw = homeworkExamples.homework1.value;
const homework = JSON.stringify(hw);
/** Every homework request distinct, so that the response cache answers none of them: each is computed. */
const homeworkBodies = (i: number) => JSON.stringify({ ...hw, input: nudge(hw.input, i) });

const mlpTrain = (steps: number) => ({ ...mlpRequest(), steps, optimizer: { type: "sgd", lr: 0.1 } });

/** Steps that make one request cost about targetHeavyMs, from the time of a probe request (one at a time). */
async function calibrate(server: Server, make: (steps: number) => unknown, probeSteps: number) {
  const probe = JSON.stringify(make(probeSteps));
  await post(server.origin, "/v1/train", probe); // the worker starts
  const r = await post(server.origin, "/v1/train", probe);
  if (r.status !== 200) throw new Error(`train probe: ${r.status} ${r.body.toString().slice(0, 300)}`);
  const zero = await post(server.origin, "/v1/train", JSON.stringify(make(1)));
  const perStep = Math.max(0.01, (r.ms - zero.ms) / (probeSteps - 1));
  const steps = Math.max(10, Math.min(10_000, Math.round((targetHeavyMs - zero.ms) / perStep)));
  const body = JSON.stringify(make(steps));
  const check = await post(server.origin, "/v1/train", body);
  if (check.status !== 200) throw new Error(`train: ${check.status} ${check.body.toString().slice(0, 300)}`);
  return { body, steps, aloneMs: check.ms };
}

/** A heavy request's outcome, as the clients' thread reports it. */
interface HeavyExchange {
  readonly status: number;
  /** From the first byte sent to the last byte received. */
  readonly ms: number;
}

// Plain JavaScript run with eval, so that it loads the same way under tsx and node.
const heavyClientSource = `
const { workerData, parentPort } = require("node:worker_threads");
const http = require("node:http");
const { origin, body, clients } = workerData;
const url = new URL("/v1/train", origin);
const agent = new http.Agent({ keepAlive: true });
const done = [];
let stopping = false;
const post = () => new Promise((resolve, reject) => {
  const start = performance.now();
  const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  const req = http.request(url, { method: "POST", agent, headers }, (res) => {
    res.on("data", () => {});
    res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - start }));
  });
  req.on("error", reject);
  req.end(body);
});
const loops = Array.from({ length: clients }, async () => {
  while (!stopping) done.push(await post());
});
parentPort.once("message", async () => {
  stopping = true;
  await Promise.all(loops);
  agent.destroy();
  parentPort.postMessage(done);
});
`;

/**
 * `clients` loops POSTing body back to back until stopped, in a thread of their own: sending 6 MB and taking 8 MB
 * back on the event loop that autocannon measures on would count the clients' own stalls as the server's
 * latency. stop() waits for the requests in flight.
 */
function heavyLoad(server: Server, body: string, clients: number) {
  const worker = new Worker(heavyClientSource, { eval: true, workerData: { origin: server.origin, body, clients } });
  return {
    stop: () =>
      new Promise<HeavyExchange[]>((resolve, reject) => {
        worker.once("message", (done: HeavyExchange[]) => {
          void worker.terminate();
          resolve(done);
        });
        worker.once("error", reject);
        worker.postMessage("stop");
      }),
  };
}

const startLoad = os.loadavg()[0];
const server = await startGradserve({ LOG_LEVEL: "silent" }, "gradserve isolation");
const homeworkLoad = (warmup: number) =>
  load({
    origin: server.origin,
    path: "/v1/gradients",
    body: homework,
    bodies: homeworkBodies,
    connections: 10,
    rate,
    seconds,
    warmupSeconds: warmup,
  });

interface Heavy {
  readonly name: string;
  readonly body: string;
  readonly steps: number;
  readonly aloneMs: number;
  readonly runs: LoadResult[];
  readonly requests: HeavyExchange[];
}
const heavies: Heavy[] = [];
const unloaded: LoadResult[] = [];
try {
  for (const [name, make, probe] of [
    ["small body (16-64-64-4, batch 256), many steps", smallTrainRequest, 200],
    ["the mid-size MLP body (6.3 MB), trained", mlpTrain, 20],
  ] as const) {
    const { body, steps, aloneMs } = await calibrate(server, make, probe);
    console.log(`${name}: ${steps} steps, ${ms(aloneMs, 0)} ms alone, ${mb(body.length)}`);
    heavies.push({ name, body, steps, aloneMs, runs: [], requests: [] });
  }
  // Rounds alternate unloaded and loaded runs, so that the machine's other load (it is shared) falls on both.
  for (let round = 0; round < rounds; round++) {
    const u = await homeworkLoad(round === 0 ? warmupSeconds : 1);
    unloaded.push(u);
    console.log(`unloaded: p50 ${ms(u.p50)} ms, p99 ${ms(u.p99)} ms, ${u.rps.toFixed(0)} req/s`);
    for (const h of heavies) {
      const heavy = heavyLoad(server, h.body, heavyClients);
      await sleep(1000);
      const r = await homeworkLoad(1);
      const done = await heavy.stop();
      h.runs.push(r);
      h.requests.push(...done);
      console.log(
        `  while training (${h.name}): p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms; ${done.length} train requests`,
      );
    }
  }
  const u = await homeworkLoad(1);
  unloaded.push(u);
  console.log(`unloaded: p50 ${ms(u.p50)} ms, p99 ${ms(u.p99)} ms`);
} finally {
  await server.stop();
}

const med = (rs: LoadResult[], key: "p50" | "p99" | "max" | "rps") => median(rs.map((r) => r[key]));
const unloadedP99 = med(unloaded, "p99");
const lines: string[] = [];
const out = (s = "") => lines.push(s);
out("## Isolation: homework requests while heavy requests run (issue 6, target 4)");
out();
out(
  `\`npm run bench:isolation\` (bench/isolation.ts). The built server (\`node dist/server.js\`, LOG_LEVEL=silent, default pool: ${Math.max(1, os.availableParallelism() - 1)} worker thread${os.availableParallelism() > 2 ? "s" : ""}, offload above 2e7 estimated FLOPs). Homework load: POST /v1/gradients with homework 1, every body distinct (an input entry nudged, so that the response cache answers none), at a steady ${rate} requests/s from autocannon (10 connections, ${seconds} s measured after a warm-up; latencies at full precision). Heavy load: ${heavyClients} clients each POSTing /v1/train back to back, each request calibrated to cost about ${targetHeavyMs / 1000} s alone; they queue for the pool, and the homework run starts 1 s after them. ${rounds} rounds alternate an unloaded run with a run under each heavy load, and one more unloaded run closes, so that the machine's other load (it is shared) falls on all of them; figures are medians over the runs. Everything shares the machine's ${os.availableParallelism()} cores: the worker takes one, the event loop and autocannon share the other.`,
);
out();
const row = (label: string, rs: LoadResult[], ratio: string) => [
  label,
  ms(med(rs, "p50")),
  ms(med(rs, "p99")),
  rs.map((r) => ms(r.p99)).join(", "),
  ms(med(rs, "max"), 1),
  med(rs, "rps").toFixed(0),
  String(rs.reduce((a, r) => a + r.errors + r.non2xx, 0)),
  ratio,
];
out(
  table(
    [`homework 1 at ${rate}/s`, "p50 ms", "p99 ms", "p99 of each run", "max ms", "req/s", "errors", "p99 vs unloaded"],
    [
      row("unloaded", unloaded, "–"),
      ...heavies.map((h) => row(`while training: ${h.name}`, h.runs, `**${times(med(h.runs, "p99") / unloadedP99)}**`)),
    ],
  ),
);
out();
out(
  table(
    [
      "heavy request",
      "body",
      "steps",
      "alone, ms",
      "completed during the runs",
      "statuses",
      "median latency under load, ms",
    ],
    heavies.map((h) => {
      const statuses = new Map<number, number>();
      for (const x of h.requests) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1);
      return [
        h.name,
        mb(Buffer.byteLength(h.body)),
        String(h.steps),
        ms(h.aloneMs, 0),
        String(h.requests.length),
        [...statuses].map(([c, n]) => `${n}× ${c}`).join(", "),
        ms(median(h.requests.map((x) => x.ms)), 0),
      ];
    }),
  ),
);
out();
out("| target | measured | |");
out("| --- | --- | --- |");
for (const h of heavies) {
  const p99 = med(h.runs, "p99");
  out(
    `| homework p99 within 3× of unloaded while training (${h.name}) | ${times(p99 / unloadedP99)} (${ms(p99)} vs ${ms(unloadedP99)} ms) | ${verdict(p99 <= 3 * unloadedP99)} |`,
  );
}
out();
out(loadNote(startLoad));
writeSection("isolation", lines.join("\n"));
