/**
 * Issue 6, target 1: homework-size requests against a bare Fastify route. autocannon at 10 connections on
 * loopback sends the homework 1 body to POST /v1/gradients and the homework 1 expression to POST
 * /v1/expressions, each both as one body repeated and with every body distinct (an input entry nudged by
 * i·1e-9, so that nothing a server might keep from an earlier request applies), to the built server
 * (`node dist/server.js`, LOG_LEVEL=silent, and again with info, the production default, its JSON lines going
 * to a file), and the same bodies to bare Fastify 5 (bench/bare-server.ts: logger off, Fastify's JSON parser,
 * answers {"ok":true}); each server in its own process. Rounds alternate the servers, so that a busy spell on
 * this shared machine hits all of them. Then the same at a steady 2000 requests/s, where latency is each
 * request's own time rather than queueing, and a CPU profile of the server under the distinct-body load says
 * where a request's time goes.
 *
 * Writes bench/results/http.md. `npm run bench:http` (after `npm run build`); about 7 minutes.
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP (3), BENCH_ROUNDS (2), BENCH_RATE (2000), BENCH_STEADY_SECONDS (5).
 */
import os from "node:os";
import type * as Examples from "../src/api/examples.js";
import { phases, profiled, selfByModule, startProfiledGradserve } from "./profile.js";
import {
  builtModule,
  type LoadResult,
  load,
  loadNote,
  machineCores,
  ms,
  nudge,
  pinCores,
  startBare,
  startGradserve,
  table,
  times,
  verdict,
  versionOf,
  writeSection,
} from "./support.js";

const seconds = Math.min(60, Number(process.env.BENCH_SECONDS ?? 10));
const warmupSeconds = Math.min(30, Number(process.env.BENCH_WARMUP ?? 3));
const rounds = Math.max(1, Math.min(5, Number(process.env.BENCH_ROUNDS ?? 2)));
const connections = 10;
const rate = Math.min(20_000, Number(process.env.BENCH_RATE ?? 2000));
const steadySeconds = Math.min(30, Number(process.env.BENCH_STEADY_SECONDS ?? 5));

const { homeworkExamples, expressionExamples } = await builtModule<typeof Examples>("api/examples.js");
const hw = homeworkExamples.homework1.value;
const ex = expressionExamples.homework1.value;
interface Route {
  readonly id: string;
  readonly path: string;
  readonly label: string;
  readonly body: string;
  /** Set for the variant in which every request's body is different (no response can be reused). */
  readonly bodies?: (i: number) => string;
}
const gradientsRoute = { path: "/v1/gradients", body: JSON.stringify(hw) };
const expressionsRoute = { path: "/v1/expressions", body: JSON.stringify(ex) };
/** In the order they run on each round's fresh servers: the repeated bodies first, on an empty response cache. */
const routes: Route[] = [
  { id: "gradients", label: "POST /v1/gradients, homework 1", ...gradientsRoute },
  { id: "expressions", label: "POST /v1/expressions, homework 1 as an expression", ...expressionsRoute },
  {
    id: "gradients-distinct",
    label: "POST /v1/gradients, homework 1, every body distinct",
    ...gradientsRoute,
    bodies: (i) => JSON.stringify({ ...hw, input: nudge(hw.input, i) }),
  },
  {
    id: "expressions-distinct",
    label: "POST /v1/expressions, homework 1 as an expression, every body distinct",
    ...expressionsRoute,
    bodies: (i) => JSON.stringify({ ...ex, constants: { ...ex.constants, X: nudge(ex.constants.X, i) } }),
  },
  {
    id: "gradients-after-fill",
    label: "POST /v1/gradients, homework 1, after the distinct runs filled the response cache",
    ...gradientsRoute,
  },
];
/** The variants that measure the path of a request with nothing reused (profiled, and used for the targets' second line). */
const distinct = (r: Route) => r.bodies !== undefined;

const startLoad = os.loadavg()[0];
const pinning = pinCores();
const bare = await startBare();
// gradserve keeps answers (src/api/cache.ts), so each round starts its servers afresh: the repeated-body runs
// then measure an empty cache answering one problem, the distinct runs fill it, and the last run shows what a
// full cache does to the repeated body.
const names = { silent: "gradserve LOG_LEVEL=silent", info: "gradserve LOG_LEVEL=info" };
const freshServers = async () => [
  bare,
  await startGradserve({ LOG_LEVEL: "silent" }, names.silent),
  await startGradserve({ LOG_LEVEL: "info" }, names.info),
];
let servers = await freshServers();

// Every answer must be a 200 before any figure means something.
for (const r of routes) {
  for (const s of servers) {
    const res = await fetch(s.origin + r.path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: r.bodies ? r.bodies(0) : r.body,
    });
    if (res.status !== 200) throw new Error(`${s.name} ${r.path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

type Key = `${string} ${string}`;
const results = new Map<Key, LoadResult[]>();
const logBytes = new Map<string, { bytes: number; requests: number }>();
const stopGradserve = async () => {
  for (const s of servers) if (s !== bare) await s.stop();
};
try {
  for (let round = 1; round <= rounds; round++) {
    if (round > 1) {
      await stopGradserve();
      servers = await freshServers();
    }
    for (const r of routes) {
      for (const s of servers) {
        const logBefore = s.logBytes();
        const res = await load({
          origin: s.origin,
          path: r.path,
          body: r.body,
          bodies: r.bodies,
          connections,
          seconds,
          warmupSeconds,
          pid: s.pid,
        });
        if (s.name === names.info) {
          const l = logBytes.get(r.id) ?? { bytes: 0, requests: 0 };
          // The warm-up logs too: count its requests by the bytes per measured request, roughly; report per request.
          logBytes.set(r.id, { bytes: l.bytes + (s.logBytes() - logBefore), requests: l.requests + res.ok });
        }
        const key: Key = `${s.name} ${r.id}`;
        results.set(key, [...(results.get(key) ?? []), res]);
        console.log(
          `round ${round} ${s.name} ${r.id}: ${res.rps.toFixed(0)} req/s, p50 ${ms(res.p50)} ms, p99 ${ms(res.p99)} ms, server CPU ${ms(res.cpuUs, 0)} µs/req${res.errors + res.non2xx ? `, ${res.errors} errors, ${res.non2xx} non-2xx` : ""}`,
        );
      }
    }
  }
  await stopGradserve();
  servers = await freshServers();
} catch (e) {
  await stopGradserve();
  await bare.stop();
  throw e;
}

// ------------------------------------------------------------------ the same offered load: latency without queueing
// At 10 connections as fast as possible, latency is mostly queueing (10 / req/s); at a steady rate well below
// every server's capacity it is each request's own time.
const steady = new Map<Key, LoadResult>();
const steadyRoutes = routes.filter((r) => r.id !== "gradients-after-fill");
for (const r of steadyRoutes) {
  for (const s of servers) {
    const res = await load({
      origin: s.origin,
      path: r.path,
      body: r.body,
      bodies: r.bodies,
      connections,
      rate,
      seconds: steadySeconds,
      warmupSeconds: 1,
    });
    steady.set(`${s.name} ${r.id}`, res);
    console.log(`steady ${rate}/s ${s.name} ${r.id}: p50 ${ms(res.p50)} ms, p99 ${ms(res.p99)} ms`);
  }
}
for (const s of servers) await s.stop();

// ------------------------------------------------------------------ where the time goes: a profile under load
interface Profiled {
  readonly label: string;
  readonly rps: number;
  readonly requests: number;
  readonly rows: ReturnType<typeof phases>;
  readonly top: ReturnType<typeof selfByModule>;
}
const profiles: Profiled[] = [];
// The distinct-body variants: the whole path of a request, nothing reused.
for (const r of routes.filter(distinct)) {
  const { server, file } = await startProfiledGradserve({ LOG_LEVEL: "silent" }, `profile ${r.id}`);
  const run = (secs: number) =>
    load({ origin: server.origin, path: r.path, body: r.body, bodies: r.bodies, connections, seconds: secs });
  try {
    await run(warmupSeconds);
    const { result, profile } = await profiled(server, file, () => run(Math.min(seconds, 8)));
    profiles.push({
      label: r.label,
      rps: result.rps,
      requests: result.ok,
      rows: phases(profile),
      top: selfByModule(profile, 10),
    });
  } finally {
    await server.stop();
  }
}

// ------------------------------------------------------------------ the report
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = (rs: LoadResult[]) => ({
  rps: mean(rs.map((r) => r.rps)),
  p50: mean(rs.map((r) => r.p50)),
  p99: mean(rs.map((r) => r.p99)),
  cpuUs: mean(rs.map((r) => r.cpuUs)),
  errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0),
});

const lines: string[] = [];
const out = (s = "") => lines.push(s);
out("## Homework-size requests against bare Fastify (issue 6, target 1)");
out();
out(
  `\`npm run bench:http\` (bench/http.ts): autocannon ${connections} connections, ${warmupSeconds} s warm-up then ${seconds} s measured, ${rounds} round${rounds > 1 ? "s" : ""} alternating the servers, each round on fresh gradserve processes; each server is its own process on 127.0.0.1, and autocannon runs in the benchmark's process, on the same ${machineCores} cores. ${pinning ?? "Nothing was pinned to a core."} gradserve is the built server (\`node dist/server.js\`, NODE_ENV=production); bare Fastify is bench/bare-server.ts (Fastify ${versionOf("fastify")}, logger off, its own JSON parser, answers \`{"ok":true}\`). Latencies are every 2xx response's time at full precision (autocannon's own histogram rounds to 1 ms); figures are the mean over the rounds. "server CPU" is the server process's user + system time (/proc/PID/stat, all threads) per request. gradserve answers a request whose URL and body it has answered before from its response cache (src/api/cache.ts): "homework 1" repeats one body (after the first, cache hits), "every body distinct" nudges an input entry by i·1e-9 in each request (the same problem and cost, never the same text: every request computed and added to the cache), and the last rows repeat one body again once the distinct runs have filled the cache. The variants ran in the table's order on the same servers.`,
);
out();
const head = ["route", "server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "req/s vs bare", "p99 vs bare"];
const rows: string[][] = [];
const targets: string[][] = [];
for (const r of routes) {
  const base = summary(results.get(`${bare.name} ${r.id}`) as LoadResult[]);
  for (const s of servers) {
    const x = summary(results.get(`${s.name} ${r.id}`) as LoadResult[]);
    rows.push([
      r.label,
      s.name,
      x.rps.toFixed(0),
      ms(x.p50),
      ms(x.p99),
      ms(x.cpuUs, 0),
      s === bare ? "1.00×" : times(x.rps / base.rps),
      s === bare ? "1.00×" : times(x.p99 / base.p99),
    ]);
    if (x.errors > 0) rows[rows.length - 1][1] += ` (${x.errors} errors or non-2xx)`;
    if (s !== bare && r.id !== "gradients-after-fill") {
      targets.push([
        `${r.label}, ${s.name}: req/s ≥ 90% of bare`,
        `${((100 * x.rps) / base.rps).toFixed(0)}% (${x.rps.toFixed(0)} vs ${base.rps.toFixed(0)})`,
        verdict(x.rps >= 0.9 * base.rps),
      ]);
      targets.push([
        `${r.label}, ${s.name}: p99 ≤ 1.5× bare`,
        `${times(x.p99 / base.p99)} (${ms(x.p99)} vs ${ms(base.p99)} ms)`,
        verdict(x.p99 <= 1.5 * base.p99),
      ]);
    }
  }
}
out(table(head, rows));
out();
if (rounds > 1) {
  out("Per round (req/s · p99 ms):");
  out();
  const perRound = routes.flatMap((r) =>
    servers.map((s) => [
      r.label,
      s.name,
      ...(results.get(`${s.name} ${r.id}`) as LoadResult[]).map((x) => `${x.rps.toFixed(0)} · ${ms(x.p99)}`),
    ]),
  );
  out(table(["route", "server", ...Array.from({ length: rounds }, (_, i) => `round ${i + 1}`)], perRound));
  out();
}
out(
  `With LOG_LEVEL=info the server wrote about ${[...logBytes]
    .map(([id, l]) => `${Math.round(l.bytes / Math.max(1, l.requests))} bytes (${id})`)
    .join(", ")} of JSON log per request (the warm-up's lines counted too, so slightly high).`,
);
out();
out(
  `At the same steady load, ${rate} requests/s from 10 connections (${steadySeconds} s after 1 s warm-up), below every server's capacity, so that latency is each request's own time rather than queueing:`,
);
out();
out(
  table(
    ["route", "server", "p50 ms", "p99 ms", "p99 vs bare"],
    steadyRoutes.flatMap((r) => {
      const base = steady.get(`${bare.name} ${r.id}`) as LoadResult;
      return servers.map((s) => {
        const x = steady.get(`${s.name} ${r.id}`) as LoadResult;
        return [r.label, s.name, ms(x.p50), ms(x.p99), s === bare ? "1.00×" : times(x.p99 / base.p99)];
      });
    }),
  ),
);
out();
out("| target | measured | |");
out("| --- | --- | --- |");
for (const t of targets) out(`| ${t.join(" | ")} |`);
out();
out(loadNote(startLoad));
out();
out("### Where a homework request's time goes (CPU profile of the server under the same load)");
out();
out(
  "The built server with V8's sampling profiler (bench/profile-hook.mjs, started after the warm-up, 500 µs interval, LOG_LEVEL=silent). Each sample is charged to the innermost frame that names a phase, so a phase's time includes what it called (bench/profile.ts lists the rules). µs/request is the event loop's sampled wall time over the requests served while profiling, so it includes time the thread was runnable but preempted (mostly inside `writev`, where the loopback send wakes autocannon); the profiler itself slows the server by 10–20%.",
);
out();
for (const p of profiles) {
  const requests = Math.max(1, p.requests);
  out(
    `**${p.label}**: ${p.rps.toFixed(0)} req/s while profiled, event loop busy ${ms(p.rows.busyMs / 1000, 1)} s of ${ms((p.rows.busyMs + p.rows.idleMs) / 1000, 1)} s.`,
  );
  out();
  out(
    table(
      ["phase", "µs / request", "share of busy time"],
      p.rows.rows.map((r) => [r.phase, ms((r.ms * 1000) / requests, 1), `${(100 * r.share).toFixed(1)}%`]),
    ),
  );
  out();
  out(
    `Self time by module (leaf frames): ${p.top.map((t) => `${t.phase} ${(100 * t.share).toFixed(1)}%`).join(", ")}.`,
  );
  out();
}

writeSection("http", lines.join("\n"));
