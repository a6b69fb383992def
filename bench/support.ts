/**
 * Shared by the HTTP benchmarks (bench/http.ts, transport.ts, isolation.ts, memory.ts, growth.ts): the built
 * server in a child process on a free loopback port, a bare Fastify baseline, an autocannon wrapper that keeps
 * every latency at full precision, /proc readings, the MLP request, machine facts and the results files.
 *
 * Everything here measures the built service (`node dist/server.js`, or modules imported from dist/), so
 * `npm run build` must have run first; every loop is bounded in count and time.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { mulberry32 } from "../test/support/random.js";
import { freePort, terminate } from "../test/support/server.js";

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const root = path.dirname(benchDir);
export const resultsDir = path.join(benchDir, "results");

// ---------------------------------------------------------------- the built service

/** The build under test: dist/, or BENCH_DIST (another build, to compare a change against the same baselines). */
export const distDir = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(root, "dist");

/** Fails early, with the fix, when dist/ is missing. */
export function requireBuilt(): void {
  if (!existsSync(path.join(distDir, "server.js"))) {
    throw new Error(`${path.join(distDir, "server.js")} is missing: run \`npm run build\` first (npm run bench does)`);
  }
}

/**
 * A module of the built service, typed as its source: `builtModule<typeof import("../src/api/tasks.js")>("api/tasks.js")`.
 * Imported by URL so that type-checking does not need dist/ to exist.
 */
export async function builtModule<T>(relative: string): Promise<T> {
  requireBuilt();
  return (await import(pathToFileURL(path.join(distDir, relative)).href)) as T;
}

// ---------------------------------------------------------------- servers in child processes

export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly origin: string;
  /** stderr (and stdout, when not sent to a log file) so far, for diagnosing a failed start. */
  readonly output: () => string;
  /** Bytes the server has written to its log file (LOG_LEVEL=info), 0 when it has none. */
  readonly logBytes: () => number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

/** The machine's cores, read before pinCores() narrows this process to one (availableParallelism follows affinity). */
export const machineCores = os.availableParallelism();

/** The core every server launched from now on runs on, when pinCores() has pinned them; else undefined. */
let serverCore: number | undefined;

/**
 * Pins a load test's two sides to their own cores, on Linux with taskset (util-linux) and at least two cores:
 * the servers launched after this call to the first core, this process (autocannon, the load) to the last.
 * Unpinned, each run's figures depend on where the scheduler happens to put a fresh server against the load
 * generator: a ratio against bare Fastify moved between 75% and 100% from round to round. Returns a sentence
 * for the report, or null when nothing was pinned (BENCH_PIN=0, one core, no taskset).
 */
export function pinCores(): string | null {
  const cores = machineCores;
  if (process.env.BENCH_PIN === "0" || process.platform !== "linux" || cores < 2) return null;
  try {
    execFileSync("taskset", ["--all-tasks", "--cpu-list", "--pid", String(cores - 1), String(process.pid)], {
      stdio: "ignore",
    });
  } catch {
    return null;
  }
  serverCore = 0;
  return `Each server ran on core 0 and the load generator on core ${cores - 1} (taskset; BENCH_PIN=0 turns this off).`;
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

async function waitHealthy(origin: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not start:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function launch(name: string, args: string[], env: Record<string, string>, logFile?: string): Promise<Server> {
  const port = await freePort();
  let output = "";
  const logFd = logFile ? openSync(logFile, "w") : undefined;
  const [command, commandArgs] =
    serverCore === undefined
      ? [process.execPath, args]
      : ["taskset", ["--cpu-list", String(serverCore), process.execPath, ...args]];
  const child = spawn(command, commandArgs, {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", logFd ?? "pipe", "pipe"],
  });
  if (logFd !== undefined) closeSync(logFd);
  children.add(child);
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  let stopping = false;
  child.on("exit", (code, signal) => {
    if (!stopping)
      console.error(`${name} exited unexpectedly (code ${code}, signal ${signal}):\n${output.slice(-4000)}`);
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitHealthy(origin, child, () => output);
  return {
    name,
    pid: child.pid as number,
    origin,
    output: () => output,
    logBytes: () => (logFile && existsSync(logFile) ? statSync(logFile).size : 0),
    async stop() {
      stopping = true;
      await terminate(child, 15_000);
      children.delete(child);
    },
  };
}

/**
 * The built service, `node dist/server.js`, as `npm start` runs it. LOG_LEVEL defaults to silent here; with a
 * level that logs, stdout (pino's JSON lines) goes to a file, as a log collector would take it.
 */
export async function startGradserve(
  env: Record<string, string> = {},
  name = "gradserve",
  nodeArgs: readonly string[] = [],
): Promise<Server> {
  requireBuilt();
  const level = env.LOG_LEVEL ?? "silent";
  const logFile =
    level === "silent"
      ? undefined
      : path.join(os.tmpdir(), `gradserve-bench-${process.pid}-${name.replace(/\W+/g, "-")}.log`);
  return launch(name, [...nodeArgs, path.join(distDir, "server.js")], { LOG_LEVEL: level, ...env }, logFile);
}

/** Bare Fastify 5 (bench/bare-server.ts): parses the body with Fastify's own JSON parser, answers {"ok":true}. */
export async function startBare(): Promise<Server> {
  return launch("bare fastify", ["--import", "tsx", path.join("bench", "bare-server.ts")], {});
}

// ---------------------------------------------------------------- load: autocannon

export interface LoadOptions {
  readonly origin: string;
  readonly path: string;
  readonly method?: "GET" | "POST";
  readonly body?: string;
  /** Instead of one body for every request: the i-th request's body (each request distinct, no cache hits). */
  readonly bodies?: (i: number) => string;
  readonly connections?: number;
  readonly seconds: number;
  /** A separate, unrecorded run first, on fresh connections. */
  readonly warmupSeconds?: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  readonly rate?: number;
  /** The server's process id, to count the CPU time it spends per request during the measured run. */
  readonly pid?: number;
}

export interface LoadResult {
  /** Completed 2xx requests per second over the measured run. */
  readonly rps: number;
  readonly ok: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Latencies of 2xx responses in ms, from send to last byte, at full precision (not autocannon's 1 ms buckets). */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** Server CPU (user + system, all threads) per completed request, µs; NaN without a pid. */
  readonly cpuUs: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Numbers the distinct bodies across every run of this process, so that no body is ever sent twice. */
let serial = 1;

async function cannon(o: LoadOptions, seconds: number, record: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const nextBody = () => (o.bodies as (i: number) => string)(serial++);
  const cpuBefore = o.pid === undefined ? Number.NaN : cpuMs(o.pid);
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.origin + o.path,
        method: o.method ?? "POST",
        headers: o.body === undefined && !o.bodies ? {} : { "content-type": "application/json" },
        body: o.body,
        ...(o.bodies ? { requests: [{ setupRequest: (req: object) => ({ ...req, body: nextBody() }) }] } : {}),
        connections: o.connections ?? 10,
        duration: seconds,
        timeout: 30,
        ...(o.rate ? { overallRate: o.rate } : {}),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (record) {
      instance.on("response", (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      });
    }
  });
  const cpu = o.pid === undefined ? Number.NaN : cpuMs(o.pid) - cpuBefore;
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    rps: latencies.length / r.duration,
    ok: latencies.length,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sum / Math.max(1, latencies.length),
    cpuUs: (cpu * 1000) / Math.max(1, latencies.length),
  };
}

/** A warm-up run (not recorded), then the measured run. */
export async function load(o: LoadOptions): Promise<LoadResult> {
  if (o.warmupSeconds) await cannon(o, o.warmupSeconds, false);
  return cannon(o, o.seconds, true);
}

// ---------------------------------------------------------------- single requests over loopback

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export interface Exchange {
  readonly status: number;
  /** From the first byte sent to the last byte received. */
  readonly ms: number;
  readonly responseBytes: number;
  readonly body: Buffer;
}

/**
 * One POST over a kept-alive loopback connection; the response body is collected, not parsed. The URL gets a
 * unique query string (the routes ignore it) so that the server's response cache never answers: every
 * request is computed. An answer from the cache anyway is an error.
 */
export function post(
  origin: string,
  urlPath: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Exchange> {
  const payload = typeof body === "string" ? Buffer.from(body) : body;
  const url = new URL(uncached(urlPath), origin);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": payload.length, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const data = Buffer.concat(chunks);
          if (res.headers["x-cache"] === "hit") reject(new Error(`${urlPath}: answered from the response cache`));
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - start,
            responseBytes: data.length,
            body: data,
          });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { nudge } from "../test/support/bodies.js";

/** A query string that makes each request's URL, and so its cache key, unique; the routes ignore it. */
export function uncached(urlPath: string): string {
  uncachedSerial++;
  return `${urlPath}${urlPath.includes("?") ? "&" : "?"}bench=${process.pid}-${uncachedSerial}`;
}
let uncachedSerial = 0;

// ---------------------------------------------------------------- /proc

export interface Memory {
  /** Resident set now, MiB. */
  readonly rss: number;
  /** Peak resident set since start or since the last resetPeak, MiB. */
  readonly hwm: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
}

/** CPU time the process has used so far (user + system, all its threads), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesized command name; utime and stime are fields 14 and 15, in clock ticks.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" > /proc/PID/clear_refs). False when not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- requests

export { mulberry32 };

/** rows×cols of uniform numbers in [shift·scale, (1+shift)·scale), at full float64 precision as JSON writes them. */
export function randomRows(rng: () => number, rows: number, cols: number, scale = 1, shift = -0.5): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rng() + shift) * scale));
}

export const MLP = { inputs: 784, hidden: 256, outputs: 10, batch: 128 } as const;

/**
 * The issue's mid-size request for POST /v1/gradients: a 784-256-10 MLP, sigmoid hidden layer, softmax
 * cross-entropy (mean), batch 128 in the rows layout, one-hot targets, every number a random float64 at full
 * precision (about 6.2 MB of JSON). Without learningRate: the response (about 8.5 MB) has no updated network.
 */
export function mlpRequest(seed = 42, batch: number = MLP.batch) {
  const rng = mulberry32(seed);
  const { inputs, hidden, outputs } = MLP;
  const target = Array.from({ length: batch }, () => {
    const row = new Array<number>(outputs).fill(0);
    row[Math.floor(rng() * outputs)] = 1;
    return row;
  });
  return {
    network: {
      layout: "rows" as const,
      layers: [
        {
          name: "hidden",
          weight: randomRows(rng, inputs, hidden, 2 / Math.sqrt(inputs)),
          bias: randomRows(rng, 1, hidden, 0.2)[0],
          activation: "sigmoid",
        },
        {
          name: "out",
          weight: randomRows(rng, hidden, outputs, 2 / Math.sqrt(hidden)),
          bias: randomRows(rng, 1, outputs, 0.2)[0],
        },
      ],
      loss: "cross_entropy",
    },
    input: randomRows(rng, batch, inputs, 1, 0),
    target,
  };
}

/**
 * POST /v1/train with little JSON (0.2 MB) and a cost set by `steps`: a 16-64-64-4 tanh network, batch 256,
 * mse, plain SGD. Above the pool's threshold from a few steps on.
 */
export function smallTrainRequest(steps: number) {
  const rng = mulberry32(7);
  const sizes = [16, 64, 64, 4];
  const batch = 256;
  return {
    network: {
      layout: "rows",
      layers: sizes.slice(1).map((out, i) => ({
        weight: randomRows(rng, sizes[i], out, 2 / Math.sqrt(sizes[i])),
        bias: randomRows(rng, 1, out, 0.2)[0],
        activation: i < sizes.length - 2 ? "tanh" : "identity",
      })),
      loss: "mse",
    },
    input: randomRows(rng, batch, sizes[0]),
    target: randomRows(rng, batch, sizes[sizes.length - 1]),
    steps,
    optimizer: { type: "sgd", lr: 0.01 },
  };
}

// ---------------------------------------------------------------- reporting

export const versionOf = (pkg: string): string => {
  try {
    return (
      JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }
    ).version;
  } catch {
    return "not installed";
  }
};

export interface Machine {
  readonly nproc: string;
  readonly cpu: string;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
  readonly fastify: string;
  readonly autocannon: string;
  readonly numpy: string;
}

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // os.cpus() stands in
  }
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    // availableParallelism stands in
  }
  let numpy = "not available";
  try {
    numpy = execFileSync("python3", ["-c", "import numpy; print(numpy.__version__)"], {
      encoding: "utf8",
      timeout: 20_000,
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    // no python3 or no numpy
  }
  return {
    nproc,
    cpu,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    fastify: versionOf("fastify"),
    autocannon: versionOf("autocannon"),
    numpy,
  };
}

/** When dist/ was built, and the commit of the working tree (and whether src/ differed) when this benchmark started. */
function describeBuild(): string {
  const where = process.env.BENCH_DIST ? `BENCH_DIST=${process.env.BENCH_DIST}` : "dist/";
  let built = "";
  try {
    built = ` built ${statSync(path.join(distDir, "server.js")).mtime.toISOString()}`;
  } catch {
    // not built: requireBuilt says so
  }
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    const sha = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--", "src", "package.json") !== "";
    return `Build measured: ${where}${built}; the working tree was at ${sha}${dirty ? " with uncommitted changes to src/ or package.json" : ""} when the benchmark started.`;
  } catch {
    return `Build measured: ${where}${built}.`;
  }
}
const buildAtStart = describeBuild();
export const buildNote = () => buildAtStart;

/** "1 min load average at the start and end" for a section, since this machine is shared; and the build. */
export function loadNote(startLoad: number): string {
  const end = os.loadavg()[0];
  const busy = Math.max(startLoad, end) > 1;
  return `Load average (1 min): ${startLoad.toFixed(2)} at the start, ${end.toFixed(2)} at the end${
    busy ? ` on ${machineCores} cores: other processes shared the machine during this run` : ""
  }. ${buildNote()}`;
}

export function table(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align?: string,
): string {
  const sep = align ?? head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ");
  return [`| ${head.join(" | ")} |`, `| ${sep} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export const ms = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
export const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");
export const verdict = (ok: boolean) => (ok ? "**met**" : "**not met**");
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Writes bench/results/NAME.md (a section that bench/report.ts assembles into bench/RESULTS.md). */
export function writeSection(name: string, markdown: string): void {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.md`);
  writeFileSync(file, `${markdown.trim()}\n`);
  console.log(`wrote ${path.relative(root, file)}`);
}
