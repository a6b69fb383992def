/**
 * CPU profiles of the built server under load, reduced to where a request's time goes. The server is started
 * with bench/profile-hook.mjs preloaded; `profiled` starts V8's sampling profiler after the warm-up (SIGUSR2)
 * and stops it after the measured run, so start-up stays out. `phases` then charges every sample to the
 * innermost frame that names a phase of request handling (JSON parse, zod validation, compile, solve, …):
 * the figures are the time each phase took including what it called, without double counting.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { distDir, type Server, sleep, startGradserve } from "./support.js";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
export interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** The built server with the profiling hook preloaded; CPU profile written to `file` on the second SIGUSR2. */
export async function startProfiledGradserve(env: Record<string, string>, name: string) {
  const file = path.join(os.tmpdir(), `gradserve-bench-${process.pid}-${name.replace(/\W+/g, "-")}.cpuprofile`);
  rmSync(file, { force: true });
  const server = await startGradserve({ ...env, BENCH_CPU_PROFILE: file }, name, [
    "--import",
    "./bench/profile-hook.mjs",
  ]);
  return { server, file };
}

/** Runs `during` with the server's profiler on, and returns the profile. */
export async function profiled<T>(
  server: Server,
  file: string,
  during: () => Promise<T>,
): Promise<{ result: T; profile: CpuProfile }> {
  process.kill(server.pid, "SIGUSR2");
  await sleep(200);
  const result = await during();
  process.kill(server.pid, "SIGUSR2");
  const deadline = Date.now() + 30_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error("the server wrote no CPU profile");
    await sleep(100);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  rmSync(file, { force: true });
  return { result, profile };
}

/** A phase of request handling, recognized by a frame of the stack; the first rule that matches a frame names it. */
interface Rule {
  readonly phase: string;
  readonly match: (f: CallFrame, pkg: string | undefined, file: string | undefined, caller?: CallFrame) => boolean;
}

const PROFILER = "the profiler itself (bench/profile-hook.mjs stopping and collecting)";

const dist = (f: string | undefined, ...prefixes: string[]) => f !== undefined && prefixes.some((p) => f.startsWith(p));

/** Innermost match wins, so nested phases (diagnostics inside building the response) get their own time. */
const rules: Rule[] = [
  {
    phase: "socket writes (the writev/write syscalls; on loopback they run the client's receive path too)",
    match: (f) =>
      f.url === "" && ["writev", "writeUtf8String", "writeLatin1String", "writeBuffer"].includes(f.functionName),
  },
  {
    phase: "JSON parse (secure-json-parse, api/json.ts)",
    match: (_f, pkg, file) => pkg === "secure-json-parse" || file === "api/json.js",
  },
  {
    phase: "request validation (zod, fastify-type-provider-zod)",
    match: (f, pkg) =>
      pkg === "zod" || pkg === "fastify-type-provider-zod" || (pkg === "fastify" && f.functionName === "validate"),
  },
  { phase: "expression parse (peggy parser)", match: (_f, _pkg, file) => dist(file, "core/expression/") },
  {
    phase: "admission (api/budget.ts, core/cost.ts)",
    match: (_f, _pkg, file) => dist(file, "api/budget.js", "core/cost.js"),
  },
  {
    phase: "diagnostics and analysis (core/diagnostics.ts, api/analysis.ts)",
    match: (_f, _pkg, file) => dist(file, "core/diagnostics.js", "api/analysis.js", "core/check.js", "core/explain/"),
  },
  {
    phase: "SGD step (core/optimize.ts, core/optimizers.ts)",
    match: (_f, _pkg, file) => dist(file, "core/optimize.js", "core/optimizers.js"),
  },
  {
    phase: "forward + reverse pass (core/problem.ts solve, autodiff, ops, kernels)",
    match: (f, _pkg, file) =>
      dist(file, "core/autodiff.js", "core/ops/", "core/kernels/") ||
      (file === "core/problem.js" && f.functionName === "solve"),
  },
  {
    phase: "compile (api/wire.ts decode, core/compile, graph)",
    match: (f, _pkg, file) =>
      dist(file, "core/compile/", "core/graph.js") ||
      ["decode", "fromRows", "compileRequest", "bind"].includes(f.functionName),
  },
  {
    phase: "building the response object (api/networks.ts, api/expressions.ts, wire.ts encode, tensor toRows)",
    match: (f) =>
      [
        "gradientsResponse",
        "expressionResponse",
        "networkWith",
        "parametersWith",
        "encodeAs",
        "encodeMatrix",
        "toRows",
      ].includes(f.functionName),
  },
  {
    phase: "other compute (api/tasks.ts, networks.ts, expressions.ts)",
    match: (_f, _pkg, file) => dist(file, "api/tasks.js", "api/networks.js", "api/expressions.js"),
  },
  {
    // JSON.stringify is a builtin: its time shows as the serializer's own, the arrow function in app.ts.
    phase: "JSON.stringify of the response (app.ts serializer)",
    match: (f, pkg, file, caller) =>
      (pkg === "fastify" && f.functionName === "serialize") ||
      (file === "app.js" && caller?.functionName === "serialize"),
  },
  {
    phase: "helmet headers (@fastify/helmet, helmet)",
    match: (_f, pkg) => pkg === "helmet" || pkg === "@fastify/helmet",
  },
  { phase: "response cache (api/cache.ts)", match: (_f, _pkg, file) => file === "api/cache.js" },
  {
    phase: "hand-off to the worker pool (piscina: postMessage's structured clone of the task)",
    match: (_f, pkg) => pkg === "piscina",
  },
  {
    phase: PROFILER,
    match: (f) => f.url.endsWith("profile-hook.mjs") || f.url.startsWith("node:inspector"),
  },
  { phase: "load shedding (@fastify/under-pressure)", match: (_f, pkg) => pkg === "@fastify/under-pressure" },
  {
    phase: "logging (pino, fastify's request logging)",
    match: (_f, pkg) => pkg === "pino" || pkg === "sonic-boom" || pkg === "pino-std-serializers",
  },
  { phase: "app.ts hooks (request id, in-flight set, x-request-id)", match: (_f, _pkg, file) => file === "app.js" },
];

const OTHER = "HTTP and Fastify core (node:http, net, streams, fastify, find-my-way)";
const GC = "garbage collection";

const distPrefix = `${pathToFileURL(distDir).href}/`;

function locate(url: string): { pkg?: string; file?: string } {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return { pkg: m[1] };
  if (url.startsWith(distPrefix)) return { file: url.slice(distPrefix.length) };
  return {};
}

export interface PhaseRow {
  readonly phase: string;
  /** Sampled time, ms. */
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

/** Busy time charged to phases (idle excluded), largest first; `GC` and the rest last-but-sorted too. */
export function phases(profile: CpuProfile): { rows: PhaseRow[]; busyMs: number; idleMs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // The phase of each node, found once: its own rule, else its parent's.
  const phaseOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = phaseOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id) as ProfileNode;
    const f = node.callFrame;
    let phase: string | undefined;
    if (f.functionName === "(garbage collector)") phase = GC;
    else if (f.functionName === "(idle)") phase = "(idle)";
    else {
      const { pkg, file } = locate(f.url);
      const up = parent.get(id);
      const caller = up === undefined ? undefined : byId.get(up)?.callFrame;
      phase = rules.find((r) => r.match(f, pkg, file, caller))?.phase;
    }
    const up = parent.get(id);
    const result = phase ?? (up === undefined ? OTHER : resolve(up));
    phaseOf.set(id, result);
    return result;
  };
  const time = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const p = resolve(profile.samples[i]);
    time.set(p, (time.get(p) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const idleMs = time.get("(idle)") ?? 0;
  time.delete("(idle)");
  // Stopping the profiler and building the profile happens inside the window; it is not the server's work.
  time.delete(PROFILER);
  const busyMs = [...time.values()].reduce((a, b) => a + b, 0);
  const rows = [...time].map(([phase, ms]) => ({ phase, ms, share: ms / busyMs })).sort((a, b) => b.ms - a.ms);
  return { rows, busyMs, idleMs };
}

/** Self time by package or dist/ file, for the curious: where the samples' leaves are. */
export function selfByModule(profile: CpuProfile, top = 12): PhaseRow[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const time = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const f = (byId.get(profile.samples[i]) as ProfileNode).callFrame;
    if (f.functionName === "(idle)") continue;
    const { pkg, file } = locate(f.url);
    const key = pkg ?? (file ? `dist/${file}` : f.url || f.functionName);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += dt;
    time.set(key, (time.get(key) ?? 0) + dt);
  }
  return [...time]
    .map(([phase, ms]) => ({ phase, ms, share: ms / busy }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}
