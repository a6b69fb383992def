/**
 * Matmul kernels and the MLP training step against baselines measured in the same run: the naive reference
 * kernel, numpy float64 (OpenBLAS, 1 and 2 threads) and TensorFlow.js (float32, wasm and cpu backends).
 * Writes bench/RESULTS.md. Run with `npm run bench:kernels` (which builds the WebAssembly kernel first).
 *
 * Every loop is bounded in count and in time (see `measure`); the whole run takes a minute or two on 2 cores.
 * Timings are never asserted anywhere: the targets are reported as ratios against the baselines.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileNetwork, type NetworkSpec } from "../src/core/compile/network.js";
import type { Graph, GraphNode } from "../src/core/graph.js";
import { configureWasmGemm, wasmGemm, wasmUnavailableReason } from "../src/core/kernels/gemm-wasm.js";
import { chooseKernel, forceKernel, type KernelName, product, SMALL_PRODUCT } from "../src/core/kernels/matmul.js";
import type { OpDef } from "../src/core/ops/types.js";
import { sgdStep } from "../src/core/optimize.js";
import { type CompiledProblem, leafIndex, solve } from "../src/core/problem.js";
import { type Tensor, zeros } from "../src/core/tensor.js";
import { mulberry32 } from "../test/support/random.js";
import { measure, type Timing } from "./measure.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- measuring

interface Times {
  readonly median: number;
  readonly min: number;
}

/** numpy's seconds in milliseconds. */
const inMs = (t: Times | undefined): Times | undefined => t && { median: t.median * 1000, min: t.min * 1000 };

const rng = mulberry32(42);
function random(rows: number, cols: number, scale = 1, shift = 0.5): Tensor {
  const t = zeros(rows, cols);
  for (let k = 0; k < t.data.length; k++) t.data[k] = (rng() - shift) * scale;
  return t;
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const ratio = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`;

// ---------------------------------------------------------------- the problem

const N = 512;
const BATCH = 128;
const INPUTS = 784;
const HIDDEN = 256;
const OUTPUTS = 10;
const LR = 0.1;

const X = random(BATCH, INPUTS, 1, 0); // pixel-like, in [0, 1)
const Y = zeros(BATCH, OUTPUTS);
for (let s = 0; s < BATCH; s++) Y.data[s * OUTPUTS + Math.floor(rng() * OUTPUTS)] = 1;
const init = {
  W1: random(INPUTS, HIDDEN, 2 / Math.sqrt(INPUTS)),
  b1: random(1, HIDDEN, 0.2),
  W2: random(HIDDEN, OUTPUTS, 2 / Math.sqrt(HIDDEN)),
  b2: random(1, OUTPUTS, 0.2),
};

function network(p: typeof init): NetworkSpec {
  return {
    layout: "rows",
    layers: [
      { name: "hidden", weight: p.W1, bias: p.b1, activation: "sigmoid" },
      { name: "out", weight: p.W2, bias: p.b2, activation: "identity" },
    ],
    loss: "cross_entropy",
    reduction: "mean",
    input: X,
    target: Y,
  };
}

/**
 * One training step through the core's real graph, as the service runs it: compile the layer stack, one
 * forward and reverse pass (solve), one SGD step. A training step needs the parameters' gradients only; with
 * `withInput` the input's gradient is formed too, as /v1/networks returns it.
 */
function coreStepper(withInput: boolean) {
  let p = { ...init };
  let lastLoss = Number.NaN;
  const step = () => {
    const compiled = compileNetwork(network(p));
    const problem: CompiledProblem = withInput
      ? compiled
      : { ...compiled, differentiate: new Set(compiled.parameters.map((n) => leafIndex(compiled.graph, n))) };
    const solution = solve(problem);
    lastLoss = solution.values[compiled.dataLoss].data[0];
    const next = sgdStep(problem, solution, LR);
    const get = (name: string) => next.get(name) as Tensor;
    p = { W1: get("hidden.weight"), b1: get("hidden.bias"), W2: get("out.weight"), b2: get("out.bias") };
  };
  return { step, loss: () => lastLoss };
}

/**
 * Where one step's time goes: each op's forward and backward (timed through a copy of the graph whose nodes
 * carry timing wrappers of their ops, so no shared op is touched), the rest of solve, and sgdStep. Averaged
 * over a bounded number of steps on the default kernels.
 */
/** The parts of a step that run in the WebAssembly module (src/core/kernels/wasm/gemm.as). */
const KERNEL_PARTS = new Set(["matmul forward", "matmul backward", "sigmoid forward"]);

function breakdown(steps: number): { part: string; ms: number }[] {
  // Per part, its time in each step (an op used twice in a step adds up within the step).
  const perStep = new Map<string, number[]>();
  let step = 0;
  const add = (part: string, ms: number) => {
    const times = perStep.get(part) ?? new Array(steps).fill(0);
    times[step] += ms;
    perStep.set(part, times);
  };
  let p = { ...init };
  for (; step < steps; step++) {
    const compiled = compileNetwork(network(p));
    const graph: Graph = {
      ...compiled.graph,
      nodes: compiled.graph.nodes.map((node): GraphNode => {
        if (node.kind !== "op") return node;
        const op = node.op;
        const part = (phase: string) =>
          `${op.name} ${phase}${KERNEL_PARTS.has(`${op.name} ${phase}`) ? " (WebAssembly)" : ""}`;
        const timed: OpDef = {
          ...op,
          forward: (inputs, attrs) => {
            const t = performance.now();
            const out = op.forward(inputs, attrs);
            add(part("forward"), performance.now() - t);
            return out;
          },
          backward: (g, inputs, out, attrs, needs) => {
            const t = performance.now();
            const grads = op.backward(g, inputs, out, attrs, needs);
            add(part("backward"), performance.now() - t);
            return grads;
          },
        };
        return { ...node, op: timed };
      }),
    };
    const problem: CompiledProblem = {
      ...compiled,
      graph,
      differentiate: new Set(compiled.parameters.map((n) => leafIndex(compiled.graph, n))),
    };
    let t = performance.now();
    const solution = solve(problem);
    add("solve, all of it", performance.now() - t);
    t = performance.now();
    const next = sgdStep(problem, solution, LR);
    add("sgdStep", performance.now() - t);
    const get = (name: string) => next.get(name) as Tensor;
    p = { W1: get("hidden.weight"), b1: get("hidden.bias"), W2: get("out.weight"), b2: get("out.bias") };
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const parts = [...perStep].map(([part, times]) => ({ part, ms: median(times) }));
  const inOps = parts.filter((x) => x.part !== "solve, all of it" && !x.part.startsWith("sgdStep"));
  const solveMs = parts.find((x) => x.part === "solve, all of it")?.ms ?? 0;
  const opsMs = inOps.reduce((acc, x) => acc + x.ms, 0);
  return [
    ...inOps.sort((x, y) => y.ms - x.ms),
    { part: "solve outside the ops (finiteness checks, accumulation)", ms: solveMs - opsMs },
    ...parts.filter((x) => x.part.startsWith("sgdStep")),
  ];
}

// ---------------------------------------------------------------- numpy

interface NumpyResult {
  readonly numpy: string;
  readonly blas: Record<string, unknown>;
  readonly matmul_seconds: { median: number; min: number; reps: number };
  readonly mlp_seconds: { median: number; min: number; reps: number };
  readonly mlp_with_input_seconds: { median: number; min: number; reps: number };
  readonly first_loss: number;
}

function runNumpy(threads: number, dataDir: string, machineEnv = false): NumpyResult | string {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  // Set on this machine for the sake of older OpenBLAS builds; they slow a current numpy, so the baseline
  // runs without them (here only: tests and CI keep them). With machineEnv, as set, for comparison.
  if (!machineEnv) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const r = spawnSync("python3", [path.join(here, "numpy-baseline.py"), dataDir], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) return `numpy baseline failed: ${(r.stderr || String(r.error)).trim().split("\n").pop()}`;
  return JSON.parse(r.stdout) as NumpyResult;
}

function writeMlpData(dir: string): void {
  const raw = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  writeFileSync(path.join(dir, "X.f64"), raw(X));
  writeFileSync(path.join(dir, "Y.f64"), raw(Y));
  for (const [name, t] of Object.entries(init)) writeFileSync(path.join(dir, `${name}.f64`), raw(t));
  writeFileSync(
    path.join(dir, "spec.json"),
    JSON.stringify({ matmul: N, batch: BATCH, inputs: INPUTS, hidden: HIDDEN, outputs: OUTPUTS, learningRate: LR }),
  );
}

// ---------------------------------------------------------------- TensorFlow.js

interface TfResult {
  readonly version: string;
  readonly wasm: { matmul: Timing; mlp: Timing; firstLoss: number; simd: boolean; threads: number } | string;
  readonly cpu: { matmul: Timing; mlp: Timing; firstLoss: number } | string;
}

async function runTf(): Promise<TfResult> {
  const tf = await import("@tensorflow/tfjs-core");
  const wasmBackend = await import("@tensorflow/tfjs-backend-wasm");
  await import("@tensorflow/tfjs-backend-cpu");
  // The .wasm files ship inside the npm package: load them from node_modules, nothing is fetched.
  const wasmDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
  wasmBackend.setWasmPaths(`${wasmDir}${path.sep}`);

  const f32 = (t: Tensor) => tf.tensor2d(Float32Array.from(t.data), [t.rows, t.cols], "float32");
  const benchBackend = async (name: string) => {
    if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend did not initialize`);
    await tf.ready();
    const a = tf.randomUniform([N, N], 0, 1, "float32", 1);
    const b = tf.randomUniform([N, N], 0, 1, "float32", 2);
    const matmul = measure(
      () => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      },
      { maxMs: name === "cpu" ? 4000 : 3000, minReps: 3 },
    );
    const x = f32(X);
    const y = f32(Y);
    const vars = {
      w1: tf.variable(f32(init.W1)),
      b1: tf.variable(f32(init.b1)),
      w2: tf.variable(f32(init.W2)),
      b2: tf.variable(f32(init.b2)),
    };
    // Backpropagation written out, as in numpy-baseline.py: tfjs-core's Node build leaves the gradient
    // registry to the tfjs umbrella package, and written out it does no more work than the step needs.
    const step = () =>
      tf.tidy(() => {
        const h = tf.sigmoid(tf.add(tf.matMul(x, vars.w1), vars.b1));
        const logp = tf.logSoftmax(tf.add(tf.matMul(h, vars.w2), vars.b2));
        const loss = tf.div(tf.neg(tf.sum(tf.mul(y, logp))), BATCH);
        const dz2 = tf.div(tf.sub(tf.exp(logp), y), BATCH);
        const dw2 = tf.matMul(h, dz2, true, false);
        const db2 = tf.sum(dz2, 0, true);
        const dz1 = tf.mul(tf.matMul(dz2, vars.w2, false, true), tf.mul(h, tf.sub(1, h)));
        const dw1 = tf.matMul(x, dz1, true, false);
        const db1 = tf.sum(dz1, 0, true);
        vars.w1.assign(tf.sub(vars.w1, tf.mul(LR, dw1)));
        vars.b1.assign(tf.sub(vars.b1, tf.mul(LR, db1)));
        vars.w2.assign(tf.sub(vars.w2, tf.mul(LR, dw2)));
        vars.b2.assign(tf.sub(vars.b2, tf.mul(LR, db2)));
        return loss.dataSync()[0];
      });
    const firstLoss = step();
    const mlp = measure(step, { maxMs: name === "cpu" ? 4000 : 3000, minReps: 3 });
    for (const t of [a, b, x, y, ...Object.values(vars)]) t.dispose();
    return { matmul, mlp, firstLoss };
  };

  const version = tf.version_core;
  let wasm: TfResult["wasm"];
  try {
    const r = await benchBackend("wasm");
    wasm = {
      ...r,
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
      threads: wasmBackend.getThreadsCount(),
    };
  } catch (e) {
    wasm = `tfjs-backend-wasm failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  let cpu: TfResult["cpu"];
  try {
    cpu = await benchBackend("cpu");
  } catch (e) {
    cpu = `tfjs-backend-cpu failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { version, wasm, cpu };
}

// ---------------------------------------------------------------- crossover of the small-product path

function crossover(): string[] {
  const lines = ["| n (n×n·n×n) | simple µs | blocked µs | wasm µs | chosen |", "| ---: | ---: | ---: | ---: | --- |"];
  for (const n of [1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 32, 64]) {
    const a = random(n, n);
    const b = random(n, n);
    const us = (k: KernelName) => {
      const reps = Math.max(20, Math.min(20_000, Math.floor(4e6 / n ** 3)));
      return (
        measure(
          () => {
            for (let r = 0; r < reps; r++) product(a, false, b, false, k);
          },
          { minReps: 5, maxReps: 30, maxMs: 300 },
        ).median *
        (1000 / reps)
      );
    };
    const cells = (["simple", "blocked", "wasm"] as KernelName[]).map((k) => fmt(us(k)));
    lines.push(`| ${n} | ${cells.join(" | ")} | ${chooseKernel(n, n, n)} |`);
  }
  return lines;
}

// ---------------------------------------------------------------- main

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    // os.availableParallelism() stands in
  }
  return { model, nproc, memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`, node: process.version };
}

async function main(): Promise<void> {
  const started = new Date();
  const loadStart = os.loadavg()[0];
  const m = machine();
  console.log(`machine: ${m.nproc} cores, ${m.model}, node ${m.node}`);
  if (!wasmGemm()) console.log(`WebAssembly kernel unavailable: ${wasmUnavailableReason()}`);

  // Matmul 512³ on each kernel of the core.
  const a = random(N, N);
  const b = random(N, N);
  const flops = 2 * N ** 3;
  const threads = Math.min(4, os.availableParallelism());
  const wasmNote = wasmGemm() ? "" : " (UNAVAILABLE: ran blocked JS)";
  // Runs fn with the WebAssembly kernel on the given threads (undefined: its default), workers ready.
  const withThreads = async <T>(count: number | undefined, fn: () => T): Promise<T> => {
    await configureWasmGemm(count === undefined ? {} : { threads: count });
    await wasmGemm()?.warmUp();
    try {
      return fn();
    } finally {
      await configureWasmGemm({});
    }
  };
  const kernels: { name: string; kernel: KernelName; threads: number }[] = [
    { name: "reference (naive i-k-j JS)", kernel: "reference", threads: 1 },
    { name: "blocked JS (portable fallback)", kernel: "blocked", threads: 1 },
    { name: `WebAssembly SIMD f64x2, one core${wasmNote}`, kernel: "wasm", threads: 1 },
    { name: `WebAssembly SIMD f64x2, worker threads (the default)${wasmNote}`, kernel: "wasm", threads },
  ];
  const matmulTimes = new Map<string, Timing>();
  for (const k of kernels) {
    const t = await withThreads(k.threads, () =>
      measure(() => product(a, false, b, false, k.kernel), { minReps: 3, maxMs: 3000 }),
    );
    matmulTimes.set(k.name, t);
    console.log(`matmul ${N}³ ${k.name}: ${fmt(flops / t.median / 1e6)} GFLOP/s`);
  }
  // The transposed variants the backward pass uses, on the default kernel.
  const [at, bt] = await withThreads(undefined, () => [
    measure(() => product(a, true, b, false), { minReps: 3, maxMs: 2000 }),
    measure(() => product(a, false, b, true), { minReps: 3, maxMs: 2000 }),
  ]);

  // MLP step through the core's graph, per kernel.
  const mlp: { name: string; threads: number; time: Timing; loss: number }[] = [];
  for (const [name, kernel, count, withInput] of [
    ["core, WebAssembly kernel, one core", "wasm", 1, false],
    ["core, WebAssembly kernel, worker threads (the default)", undefined, threads, false],
    ["core, WebAssembly kernel, worker threads, also d loss/d input (as /v1/networks)", undefined, threads, true],
    ["core, blocked JS kernel (no WebAssembly)", "blocked", 1, false],
    ["core, reference kernel (naive JS, the code before)", "reference", 1, false],
  ] as const) {
    forceKernel(kernel);
    const s = coreStepper(withInput);
    const [time, loss] = await withThreads(count, () => {
      s.step();
      const first = s.loss();
      return [
        measure(s.step, { minReps: 3, maxReps: 100, maxMs: kernel === "reference" ? 5000 : 3000 }),
        first,
      ] as const;
    });
    forceKernel(undefined);
    mlp.push({ name, threads: count, time, loss });
    console.log(`MLP step ${name}: ${fmt(time.median)} ms`);
  }

  const parts = await withThreads(undefined, () => {
    breakdown(5);
    return breakdown(40);
  });

  // Baselines.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "gradserve-bench-"));
  writeMlpData(dataDir);
  const numpy1 = runNumpy(1, dataDir);
  const numpy2 = runNumpy(2, dataDir);
  const coretype = process.env.OPENBLAS_CORETYPE;
  const numpyMachine = coretype ? runNumpy(1, dataDir, true) : undefined;
  rmSync(dataDir, { recursive: true, force: true });
  for (const [t, r] of [
    [1, numpy1],
    [2, numpy2],
  ] as const) {
    console.log(
      typeof r === "string"
        ? r
        : `numpy ${t} thread(s): matmul ${fmt(flops / r.matmul_seconds.median / 1e9)} GFLOP/s, MLP ${fmt(r.mlp_seconds.median * 1000)} ms`,
    );
  }
  const tfr = await runTf();
  if (typeof tfr.wasm === "string") console.log(tfr.wasm);
  else
    console.log(
      `tfjs-wasm: matmul ${fmt(flops / tfr.wasm.matmul.median / 1e6)} GFLOP/s, MLP ${fmt(tfr.wasm.mlp.median)} ms`,
    );
  const cross = crossover();

  // ------------------------------------------------------------ the report
  const gflops = (ms: number) => flops / ms / 1e6;
  const wasmMs = (matmulTimes.get(kernels[2].name) as Timing).median;
  const wasmThreadsMs = (matmulTimes.get(kernels[3].name) as Timing).median;
  const naiveMs = (matmulTimes.get(kernels[0].name) as Timing).median;
  const np1 = typeof numpy1 === "string" ? undefined : numpy1;
  const np2 = typeof numpy2 === "string" ? undefined : numpy2;
  const npm = typeof numpyMachine === "object" ? numpyMachine : undefined;
  const tfw = typeof tfr.wasm === "string" ? undefined : tfr.wasm;
  const tfc = typeof tfr.cpu === "string" ? undefined : tfr.cpu;
  const blas = np1?.blas ?? {};
  const lines: string[] = [];
  const out = (s = "") => lines.push(s);

  out("# Kernel benchmark results");
  out();
  out("Written by `npm run bench:kernels` (bench/kernels.ts); do not edit by hand. Medians of bounded repeat loops;");
  out("every baseline was measured in the same run on the same machine. Summary and method: bench/README.md.");
  out();
  out("| | |");
  out("| --- | --- |");
  out(`| date | ${started.toISOString()} |`);
  out(`| machine | ${m.nproc} cores (\`nproc\`), ${m.model}, ${m.memory}, ${os.type()} ${os.release()} |`);
  out(`| node | ${m.node} (V8 ${process.versions.v8}) |`);
  out(
    `| load average (1 min) | ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end: above about 1 on ${m.nproc} cores, other processes shared the machine and the multi-threaded rows suffer first |`,
  );
  out(
    `| numpy | ${np1?.numpy ?? "unavailable"}; BLAS: ${blas.internal_api ?? "?"} ${blas.version ?? ""}, kernel \`${blas.architecture ?? "?"}\` (${blas.source ?? "?"}); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for it |`,
  );
  out(
    `| TensorFlow.js | tfjs-core ${tfr.version}, backend-wasm ${tfw ? `(SIMD ${tfw.simd ? "on" : "off"}, ${tfw.threads} thread${tfw.threads === 1 ? "" : "s"})` : "unavailable"}, backend-cpu; float32 |`,
  );
  out(
    `| gradserve kernels | ${wasmGemm() ? "WebAssembly SIMD available" : `WebAssembly unavailable (${wasmUnavailableReason()})`} |`,
  );
  out();

  out(`## Matmul ${N}×${N}·${N}×${N} (${fmt(flops / 1e6, 0)} MFLOP)`);
  out();
  out(
    "| kernel | precision | threads | ms (median) | GFLOP/s (median) | GFLOP/s (best) | vs naive JS | vs tfjs-wasm | vs numpy 1 thread |",
  );
  out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const mmRow = (name: string, prec: string, threads: string, t: Times | undefined) => {
    if (t === undefined) return out(`| ${name} | ${prec} | ${threads} | – | unavailable | | | | |`);
    const ms = t.median;
    const vs = (base: number | undefined) => (base === undefined ? "–" : ratio(base / ms));
    out(
      `| ${name} | ${prec} | ${threads} | ${fmt(ms)} | ${fmt(gflops(ms), 1)} | ${fmt(gflops(t.min), 1)} | ${vs(naiveMs)} | ${vs(tfw?.matmul.median)} | ${vs(np1 ? np1.matmul_seconds.median * 1000 : undefined)} |`,
    );
  };
  const forcedKernel = `numpy (OpenBLAS ${npm?.blas.architecture ?? "?"} kernel, as this machine's OPENBLAS_CORETYPE=${coretype} forces)`;
  for (const k of kernels) {
    mmRow(`gradserve ${k.name}`, "f64", String(k.threads), matmulTimes.get(k.name));
  }
  mmRow("gradserve default, Aᵀ·B (the backward's dB)", "f64", String(threads), at);
  mmRow("gradserve default, A·Bᵀ (the backward's dA)", "f64", String(threads), bt);
  mmRow("numpy (OpenBLAS)", "f64", "1", inMs(np1?.matmul_seconds));
  mmRow("numpy (OpenBLAS)", "f64", "2", inMs(np2?.matmul_seconds));
  if (npm) {
    mmRow(forcedKernel, "f64", "1", inMs(npm.matmul_seconds));
  }
  mmRow("TensorFlow.js wasm", "f32", String(tfw?.threads ?? "?"), tfw?.matmul);
  mmRow("TensorFlow.js cpu", "f32", "1", tfc?.matmul);
  out();
  out("(\"vs X\" is X's time over this row's time: above 1× this row is faster.)");
  out();

  out(
    `## MLP training step: ${INPUTS}-${HIDDEN}-${OUTPUTS}, batch ${BATCH}, sigmoid hidden layer, softmax cross-entropy (mean), SGD`,
  );
  out();
  out("One forward pass, one backward pass and one SGD update of every parameter. gradserve's rows go through the");
  out("core's real graph (compileNetwork, solve, sgdStep) in float64; numpy's is the same computation by hand.");
  out();
  out(
    "| implementation | precision | threads | ms / step (median) | ms (best) | vs tfjs-wasm | vs numpy 1 thread | first-step loss |",
  );
  out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const mlpRow = (name: string, prec: string, threads: string, t: Times | undefined, loss?: number) => {
    if (t === undefined) return out(`| ${name} | ${prec} | ${threads} | unavailable | | | | |`);
    const ms = t.median;
    const vsTf = tfw ? ratio(tfw.mlp.median / ms) : "–";
    const vsNp = np1 ? ratio((np1.mlp_seconds.median * 1000) / ms) : "–";
    out(
      `| ${name} | ${prec} | ${threads} | ${fmt(ms)} | ${fmt(t.min)} | ${vsTf} | ${vsNp} | ${loss === undefined ? "" : loss.toPrecision(15)} |`,
    );
  };
  for (const r of mlp) mlpRow(`gradserve ${r.name}`, "f64", String(r.threads), r.time, r.loss);
  mlpRow("numpy (OpenBLAS)", "f64", "1", inMs(np1?.mlp_seconds), np1?.first_loss);
  mlpRow("numpy (OpenBLAS)", "f64", "2", inMs(np2?.mlp_seconds));
  mlpRow("numpy (OpenBLAS), also d loss/d input", "f64", "1", inMs(np1?.mlp_with_input_seconds));
  if (npm) {
    mlpRow(forcedKernel, "f64", "1", inMs(npm.mlp_seconds));
  }
  mlpRow("TensorFlow.js wasm", "f32", String(tfw?.threads ?? "?"), tfw?.mlp, tfw?.firstLoss);
  mlpRow("TensorFlow.js cpu", "f32", "1", tfc?.mlp, tfc?.firstLoss);
  out();
  out("(\"vs X\" is X's time over this row's time: above 1× gradserve is faster.)");
  out();

  out(`## Where the default step's time goes (${threads} threads, median of 40 steps per part, timed per op)`);
  out();
  out("| part | ms / step |");
  out("| --- | ---: |");
  for (const x of parts) out(`| ${x.part} | ${fmt(x.ms, 3)} |`);
  const matmulMs = parts.filter((x) => x.part.startsWith("matmul ")).reduce((acc, x) => acc + x.ms, 0);
  const restMs = parts.filter((x) => !x.part.startsWith("matmul ")).reduce((acc, x) => acc + x.ms, 0);
  out();
  out(
    `Matmul (forward and both backward products): ${fmt(matmulMs)} ms; everything else: ${fmt(restMs)} ms${np1 ? `, which alone is ${ratio(restMs / (np1.mlp_seconds.median * 1000))} numpy's whole 1-thread step` : ""}.`,
  );
  out();

  out("## Targets (issue 6, target 2)");
  out();
  const check = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "**met**" : "**not met**");
  const npMs = np1 ? np1.mlp_seconds.median * 1000 : undefined;
  out("| target | measured | |");
  out("| --- | --- | --- |");
  out(
    `| matmul ${N}³ float64 ≥ 15 GFLOP/s on one core | ${fmt(gflops(wasmMs), 1)} GFLOP/s (${fmt(gflops(wasmThreadsMs), 1)} on ${threads} threads) | ${check(gflops(wasmMs) >= 15)} |`,
  );
  for (const r of mlp.slice(0, 2)) {
    const ms = r.time.median;
    const on = `${r.threads} thread${r.threads === 1 ? "" : "s"}`;
    out(
      `| MLP step faster than tfjs-wasm (f32), ${on} | ${fmt(ms)} ms vs ${tfw ? fmt(tfw.mlp.median) : "?"} ms | ${check(tfw ? ms < tfw.mlp.median : undefined)} |`,
    );
    out(
      `| MLP step within 3× of numpy 1 thread, ${on} | ${npMs ? ratio(ms / npMs) : "?"} numpy's ${npMs ? fmt(npMs) : "?"} ms | ${check(npMs ? ms <= 3 * npMs : undefined)} |`,
    );
  }
  if (np1) {
    const agree = Math.abs(mlp[0].loss - np1.first_loss) <= 1e-12 * Math.abs(np1.first_loss);
    out();
    out(
      `gradserve's first-step loss ${agree ? "agrees" : "DISAGREES"} with numpy's to 1e-12 (same data, written to numpy by the benchmark).`,
    );
  }
  out();

  out("## Small products: which kernel is cheapest");
  out();
  out("Per-call time of op(A)·op(B) for n×n matrices; `chosen` is what the matmul op uses (plain loops below");
  out(`SMALL_PRODUCT = ${SMALL_PRODUCT} multiply-adds, src/core/kernels/matmul.ts).`);
  out();
  for (const l of cross) out(l);
  out();
  for (const [name, r] of [
    ["numpy 1 thread", numpy1],
    ["numpy 2 threads", numpy2],
  ] as const) {
    if (typeof r === "string") out(`${name}: ${r}`);
  }
  if (typeof tfr.wasm === "string") out(tfr.wasm);
  if (typeof tfr.cpu === "string") out(tfr.cpu);

  // This run's section, for a report that assembles bench/RESULTS.md from bench/results/*.md; while there is no
  // such assembler (bench/report.ts), the section is bench/RESULTS.md itself.
  const text = `${lines.join("\n")}\n`;
  mkdirSync(path.join(here, "results"), { recursive: true });
  writeFileSync(path.join(here, "results", "kernels.md"), text);
  console.log(`\nwrote ${path.join(here, "results", "kernels.md")}`);
  if (existsSync(path.join(here, "report.ts"))) {
    console.log("bench/report.ts assembles bench/RESULTS.md from bench/results/: npm run bench refreshes it");
  } else {
    writeFileSync(path.join(here, "RESULTS.md"), text);
    console.log(`wrote ${path.join(here, "RESULTS.md")}`);
  }
}

await main();
