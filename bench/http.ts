/**
 * Issue 6, target 1: homework-size requests against a bare Fastify route. autocannon at 10 connections on
 * loopback sends the homework 1 body to POST /v1/gradients and the homework 1 expression to POST
 * /v1/expressions of the built server (`node dist/server.js`, LOG_LEVEL=silent, and again with info, the
 * production default, its JSON lines going to a file), and the same bodies to bare Fastify 5
 * (bench/bare-server.ts: logger off, Fastify's JSON parser, answers {"ok":true}); each server in its own
 * process. Rounds alternate the servers, so that a busy spell on this shared machine hits all of them.
 * Then a CPU profile of the server under the same load says where a request's time goes.
 *
 * Writes bench/results/http.md. `npm run bench:http` (after `npm run build`); about 3 minutes.
 * Then the same at a steady 2000 requests/s, where latency is each request's own time rather than queueing.
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
  ms,
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
const routes = [
  {
    path: "/v1/gradients",
    label: "POST /v1/gradients, homework 1",
    body: JSON.stringify(homeworkExamples.homework1.value),
  },
  {
    path: "/v1/expressions",
    label: "POST /v1/expressions, homework 1 as an expression",
    body: JSON.stringify(expressionExamples.homework1.value),
  },
];

const startLoad = os.loadavg()[0];
const bare = await startBare();
const silent = await startGradserve({ LOG_LEVEL: "silent" }, "gradserve LOG_LEVEL=silent");
const info = await startGradserve({ LOG_LEVEL: "info" }, "gradserve LOG_LEVEL=info");
const servers = [bare, silent, info];

// Every answer must be a 200 before any figure means something.
for (const r of routes) {
  for (const s of servers) {
    const res = await fetch(s.origin + r.path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: r.body,
    });
    if (res.status !== 200) throw new Error(`${s.name} ${r.path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

type Key = `${string} ${string}`;
const results = new Map<Key, LoadResult[]>();
const logBytes = new Map<string, { bytes: number; requests: number }>();
try {
  for (let round = 1; round <= rounds; round++) {
    for (const r of routes) {
      for (const s of servers) {
        const logBefore = s.logBytes();
        const res = await load({
          origin: s.origin,
          path: r.path,
          body: r.body,
          connections,
          seconds,
          warmupSeconds,
          pid: s.pid,
        });
        if (s === info) {
          const l = logBytes.get(r.path) ?? { bytes: 0, requests: 0 };
          // The warm-up logs too: count its requests by the bytes per measured request, roughly; report per request.
          logBytes.set(r.path, { bytes: l.bytes + (s.logBytes() - logBefore), requests: l.requests + res.ok });
        }
        const key: Key = `${s.name} ${r.path}`;
        results.set(key, [...(results.get(key) ?? []), res]);
        console.log(
          `round ${round} ${s.name} ${r.path}: ${res.rps.toFixed(0)} req/s, p50 ${ms(res.p50)} ms, p99 ${ms(res.p99)} ms, server CPU ${ms(res.cpuUs, 0)} µs/req${res.errors + res.non2xx ? `, ${res.errors} errors, ${res.non2xx} non-2xx` : ""}`,
        );
      }
    }
  }
} catch (e) {
  for (const s of servers) await s.stop();
  throw e;
}

// ------------------------------------------------------------------ the same offered load: latency without queueing
// At 10 connections as fast as possible, latency is mostly queueing (10 / req/s); at a steady rate well below
// every server's capacity it is each request's own time.
const steady = new Map<Key, LoadResult>();
for (const r of routes) {
  for (const s of servers) {
    const res = await load({
      origin: s.origin,
      path: r.path,
      body: r.body,
      connections,
      rate,
      seconds: steadySeconds,
      warmupSeconds: 1,
    });
    steady.set(`${s.name} ${r.path}`, res);
    console.log(`steady ${rate}/s ${s.name} ${r.path}: p50 ${ms(res.p50)} ms, p99 ${ms(res.p99)} ms`);
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
for (const r of routes) {
  const { server, file } = await startProfiledGradserve({ LOG_LEVEL: "silent" }, `profile ${r.path}`);
  try {
    await load({ origin: server.origin, path: r.path, body: r.body, connections, seconds: warmupSeconds });
    const { result, profile } = await profiled(server, file, () =>
      load({ origin: server.origin, path: r.path, body: r.body, connections, seconds: Math.min(seconds, 8) }),
    );
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
  `\`npm run bench:http\` (bench/http.ts): autocannon ${connections} connections, ${warmupSeconds} s warm-up then ${seconds} s measured, ${rounds} round${rounds > 1 ? "s" : ""} alternating the servers; each server is its own process on 127.0.0.1, and autocannon runs in the benchmark's process on the same ${os.availableParallelism()} cores. gradserve is the built server (\`node dist/server.js\`, NODE_ENV=production); bare Fastify is bench/bare-server.ts (Fastify ${versionOf("fastify")}, logger off, its own JSON parser, answers \`{"ok":true}\`). Latencies are every 2xx response's time at full precision (autocannon's own histogram rounds to 1 ms); figures are the mean over the rounds. "server CPU" is the server process's user + system time (/proc/PID/stat, all threads) per request.`,
);
out();
const head = ["route", "server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "req/s vs bare", "p99 vs bare"];
const rows: string[][] = [];
const targets: string[][] = [];
for (const r of routes) {
  const base = summary(results.get(`${bare.name} ${r.path}`) as LoadResult[]);
  for (const s of servers) {
    const x = summary(results.get(`${s.name} ${r.path}`) as LoadResult[]);
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
    if (s !== bare) {
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
      r.path,
      s.name,
      ...(results.get(`${s.name} ${r.path}`) as LoadResult[]).map((x) => `${x.rps.toFixed(0)} · ${ms(x.p99)}`),
    ]),
  );
  out(table(["route", "server", ...Array.from({ length: rounds }, (_, i) => `round ${i + 1}`)], perRound));
  out();
}
for (const [p, l] of logBytes) {
  out(
    `With LOG_LEVEL=info the server wrote about ${Math.round(l.bytes / Math.max(1, l.requests))} bytes of JSON log per ${p} request (warm-up included in the bytes, so slightly high).`,
  );
}
out();
out(
  `At the same steady load, ${rate} requests/s from 10 connections (${steadySeconds} s after 1 s warm-up), below every server's capacity, so that latency is each request's own time rather than queueing:`,
);
out();
out(
  table(
    ["route", "server", "p50 ms", "p99 ms", "p99 vs bare"],
    routes.flatMap((r) => {
      const base = steady.get(`${bare.name} ${r.path}`) as LoadResult;
      return servers.map((s) => {
        const x = steady.get(`${s.name} ${r.path}`) as LoadResult;
        return [r.path, s.name, ms(x.p50), ms(x.p99), s === bare ? "1.00×" : times(x.p99 / base.p99)];
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
