import { readFileSync } from "node:fs";
import os from "node:os";
import { Worker } from "node:worker_threads";
import { sigmoid as sigmoidOf } from "../numerics.js";
import { dims, type Operand } from "./gemm-js.js";
import { growTo, PAGE, WA } from "./webassembly.js";

/**
 * The WebAssembly SIMD (f64x2) GEMM built from wasm/gemm.as by `npm run build:wasm` into wasm/gemm.wasm
 * beside this module (in src/ for tsx and vitest, in dist/ for the built service). It is loaded lazily on the
 * first product large enough to want it; where it is missing or the engine cannot run it, `wasmGemm()` is
 * null and callers use the portable kernels.
 *
 * The module's memory is a shared WebAssembly.Memory: large products are split by columns (or rows) of C
 * between this thread and worker threads running the same module on the same memory, this thread waiting
 * for them with Atomics.wait, so `multiply` stays synchronous. Each entry of C is still computed whole by one
 * thread in the reference's order, so the result does not depend on the number of threads.
 */
export interface WasmGemm {
  /**
   * C = op(A)·op(B) as a new row-major m×n array, or null where the operands do not fit its memory or a
   * worker failed (the caller then uses the portable kernels).
   */
  multiply(a: Operand, b: Operand): Float64Array | null;
  /**
   * y = σ(x) entry by entry with the module's other kernel, bit for bit numerics.ts's sigmoid (which computes the
   * entries the kernel leaves to it); false where x does not fit the memory.
   */
  sigmoid(x: Float64Array, y: Float64Array): boolean;
  /** Threads a large product is split between (this one included). */
  readonly threads: number;
  /** How many products have been split between threads so far. */
  readonly splitProducts: number;
  /** The size of its memory, which grows to the largest product so far and never shrinks. */
  readonly memoryBytes: number;
  /**
   * True once a worker has failed or not answered in time: workers might still write into the memory, so this
   * instance multiplies no more (`multiply` returns null) and `wasmGemm()` makes a new one on a new memory.
   */
  readonly broken: boolean;
  /**
   * Starts the worker threads now rather than with the first large product, and waits (at most timeoutMs)
   * until each is ready or has failed to start: whether they all are ready.
   */
  warmUp(timeoutMs?: number): Promise<boolean>;
  /** Ends the worker threads; `multiply` then runs on this thread alone. */
  close(): Promise<void>;
}

export interface WasmGemmOptions {
  /** Threads for large products, this one included (default: the available cores, at most 4). */
  readonly threads?: number;
  /** Products of at least this many multiply-adds (m·n·k) are split between the threads. */
  readonly parallelFrom?: number;
}

/** Below this many multiply-adds a product runs on one thread: waking a worker costs more than it saves. */
export const PARALLEL_FROM = 2 ** 20;

interface Exports {
  heapBase(): number;
  workspaceBytes(): number;
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    transA: number,
    b: number,
    ldb: number,
    transB: number,
    c: number,
    ldc: number,
    work: number,
  ): void;
  sigmoid(x: number, y: number, n: number, special: number): number;
}

/** The memory's maximum (as gemm.as is built): 2 GiB. Larger products stay on the portable kernels. */
const MAX_PAGES = 32768;
const MAX_BYTES = MAX_PAGES * PAGE;

const align = (x: number) => Math.ceil(x / 64) * 64;

// One slot of the control block per worker, as Int32Array indices: the worker waits on SEQ for a new job,
// runs gemm with the arguments from ARGS on, stores the job's number in DONE and wakes whoever waits on it.
const SLOT = 16;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const ARGS = 3; // m n k a lda transA b ldb transB c ldc work: 12 values, indices 3 … 14
const READY = 15; // set by the worker once it has instantiated the module

// Plain JavaScript run with eval, so that it loads the same way under tsx, vitest and node dist/.
const workerSource = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, slot } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const ctrl = new Int32Array(control);
const base = slot * ${SLOT};
Atomics.store(ctrl, base + ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, base + ${SEQ}, seen);
  const seq = Atomics.load(ctrl, base + ${SEQ});
  if (seq === seen) continue;
  if (seq < 0) break;
  seen = seq;
  let failed = 0;
  try {
    const a = ctrl.subarray(base + ${ARGS}, base + ${ARGS + 12});
    gemm(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
  } catch {
    failed = 1;
  }
  Atomics.store(ctrl, base + ${FAILED}, failed);
  Atomics.store(ctrl, base + ${DONE}, seq);
  Atomics.notify(ctrl, base + ${DONE});
}
`;

/** One thread's share of a product: rows [from, to) of C, or columns [from, to). */
interface Part {
  readonly from: number;
  readonly to: number;
}

/** Splits `size` rows or columns into `count` nearly equal runs whose starts are multiples of 4 (the tile). */
function split(size: number, count: number): Part[] {
  const tiles = Math.ceil(size / 4);
  const parts: Part[] = [];
  let start = 0;
  for (let p = 0; p < count; p++) {
    const end = Math.min(size, Math.round((tiles * (p + 1)) / count) * 4);
    if (end > start) parts.push({ from: start, to: end });
    start = end;
  }
  return parts;
}

/**
 * Compiles the module's bytes and instantiates it on a new shared memory (workers start when needed).
 * `workerCode` is what each worker thread runs (tests give one that fails).
 */
export function gemmFromBytes(bytes: Uint8Array, options: WasmGemmOptions = {}, workerCode = workerSource): WasmGemm {
  const module = new WA.Module(bytes);
  const memory = new WA.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const ex = new WA.Instance(module, { env: { memory } }).exports as Exports;
  const threads = Math.max(1, Math.floor(options.threads ?? Math.min(4, os.availableParallelism())));
  const parallelFrom = options.parallelFrom ?? PARALLEL_FROM;
  const workspace = align(ex.workspaceBytes());
  const work = align(ex.heapBase());
  const operands = work + threads * workspace;

  const control = new Int32Array(new SharedArrayBuffer(4 * SLOT * Math.max(1, threads - 1)));
  let workers: Worker[] = [];
  // Slots whose worker failed (could not start a thread, say): never handed a part. Without a listener, the
  // 'error' event of a worker would end the process.
  const failed = new Set<number>();
  let started = false;
  let jobs = 0;
  let splits = 0;
  let broken = false;
  // Only this thread grows the memory, so a view made after each growth stays whole.
  let heap = new Float64Array(memory.buffer);
  let indices = new Int32Array(memory.buffer);

  /** Grows the memory to at least `end` bytes: false where it may not or the machine would not give it. */
  const reserve = (end: number): boolean => {
    if (end > MAX_BYTES) return false;
    if (end <= heap.byteLength) return true;
    if (!growTo(memory, end)) return false;
    heap = new Float64Array(memory.buffer);
    indices = new Int32Array(memory.buffer);
    return true;
  };

  /**
   * Workers start with the first product large enough to split; that product and those that follow until a
   * worker has instantiated the module run on the threads ready by then (at first this one alone).
   */
  const readyWorkers = (): number[] => {
    if (!started) {
      started = true;
      for (let w = 0; w < threads - 1; w++) {
        const worker = new Worker(workerCode, {
          eval: true,
          workerData: { module, memory, control: control.buffer, slot: w },
        });
        worker.on("error", () => failed.add(w));
        // Idle workers wait in Atomics.wait and must not keep the process alive.
        worker.unref();
        workers.push(worker);
      }
    }
    const ready: number[] = [];
    for (let w = 0; w < workers.length; w++) {
      if (!failed.has(w) && Atomics.load(control, w * SLOT + READY) === 1) ready.push(w);
    }
    return ready;
  };

  /** Hands one part of the product to a worker. */
  const post = (slot: number, args: readonly number[]) => {
    const base = slot * SLOT;
    control.set(args, base + ARGS);
    Atomics.store(control, base + SEQ, jobs);
    Atomics.notify(control, base + SEQ);
  };

  /** Waits for a worker's part: false if it failed or did not finish by the deadline. */
  const wait = (slot: number, deadline: number): boolean => {
    const base = slot * SLOT;
    for (;;) {
      const done = Atomics.load(control, base + DONE);
      if (done === jobs) return Atomics.load(control, base + FAILED) === 0;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(control, base + DONE, done, left);
    }
  };

  return {
    threads,
    get broken() {
      return broken;
    },
    get splitProducts() {
      return splits;
    },
    get memoryBytes() {
      return heap.byteLength;
    },
    multiply(a, b) {
      if (broken) return null;
      const { m, n, k } = dims(a, b);
      const pa = operands;
      const pb = align(pa + a.data.length * 8);
      const pc = align(pb + b.data.length * 8);
      const end = pc + m * n * 8;
      if (!reserve(end)) return null;
      heap.set(a.data, pa / 8);
      heap.set(b.data, pb / 8);
      // The kernel overwrites C whatever it held, except that a product over k = 0 writes nothing.
      if (k === 0) heap.fill(0, pc / 8, end / 8);
      const lda = a.cols;
      const ldb = b.cols;
      const tA = a.transposed ? 1 : 0;
      const tB = b.transposed ? 1 : 0;
      const helpers = threads > 1 && m * n * k >= parallelFrom ? readyWorkers() : [];
      if (helpers.length === 0) {
        ex.gemm(m, n, k, pa, lda, tA, pb, ldb, tB, pc, n, work);
        return heap.slice(pc / 8, end / 8);
      }
      // Split the larger of m and n: each thread packs all of the other operand's block, so that is the
      // smaller duplication. Part 0 is this thread's, part t > 0 goes to helpers[t - 1].
      const byColumns = n >= m;
      const parts = split(byColumns ? n : m, helpers.length + 1);
      const argsOf = ({ from, to }: Part, ws: number): number[] => {
        if (byColumns) {
          const bj = tB ? pb + from * ldb * 8 : pb + from * 8;
          return [m, to - from, k, pa, lda, tA, bj, ldb, tB, pc + from * 8, n, ws];
        }
        const ai = tA ? pa + from * 8 : pa + from * lda * 8;
        return [to - from, n, k, ai, lda, tA, pb, ldb, tB, pc + from * n * 8, n, ws];
      };
      jobs++;
      splits++;
      for (let t = 1; t < parts.length; t++) post(helpers[t - 1], argsOf(parts[t], work + t * workspace));
      const mine = argsOf(parts[0], work);
      ex.gemm(
        mine[0],
        mine[1],
        mine[2],
        mine[3],
        mine[4],
        mine[5],
        mine[6],
        mine[7],
        mine[8],
        mine[9],
        mine[10],
        mine[11],
      );
      // Generous: 10 s for a machine busy elsewhere, plus the product's time at 0.1 GFLOP/s (in ms).
      const deadline = performance.now() + 10_000 + (2 * m * n * k) / 1e5;
      for (let t = 1; t < parts.length; t++) {
        if (wait(helpers[t - 1], deadline)) continue;
        // A worker failed or did not answer in time. One still running may yet write into C, so neither this
        // product nor this memory is used again: the caller falls back to the portable kernels, and
        // `wasmGemm()` makes a new instance for the next product.
        broken = true;
        void this.close();
        return null;
      }
      return heap.slice(pc / 8, end / 8);
    },
    sigmoid(x, y) {
      const n = x.length;
      const px = operands;
      const py = align(px + n * 8);
      const special = align(py + n * 8);
      if (broken || !reserve(special + n * 4)) return false;
      heap.set(x, px / 8);
      const count = ex.sigmoid(px, py, n, special);
      y.set(heap.subarray(py / 8, py / 8 + n));
      for (let c = 0; c < count; c++) {
        const i = indices[special / 4 + c];
        y[i] = sigmoidOf(x[i]);
      }
      return true;
    },
    async warmUp(timeoutMs = 10_000) {
      const until = performance.now() + timeoutMs;
      while (readyWorkers().length + failed.size < workers.length) {
        if (performance.now() > until) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return failed.size === 0;
    },
    async close() {
      const ended = workers.map((w, i) => {
        Atomics.store(control, i * SLOT + SEQ, -1);
        Atomics.notify(control, i * SLOT + SEQ);
        return w.terminate();
      });
      workers = [];
      await Promise.all(ended);
    },
  };
}

/** Where the build puts the module: beside this file, in src/ as in dist/. */
export const wasmPath = new URL("./wasm/gemm.wasm", import.meta.url);

let loaded: WasmGemm | null | undefined;
let failure: string | undefined;
let settings: WasmGemmOptions = {};

/**
 * Sets the threads (and the size from which products are split) of the kernel that `wasmGemm()` returns; the
 * next product loads it anew. For benchmarks, and for a service that wants its cores for other work.
 */
export async function configureWasmGemm(options: WasmGemmOptions): Promise<void> {
  const previous = loaded;
  loaded = undefined;
  failure = undefined;
  settings = options;
  await previous?.close();
}

/** A memory grown past this by one large product is let go afterwards rather than kept for the next. */
const RETAIN_BYTES = 256 * 2 ** 20;

/** The WebAssembly kernel, or null (with `wasmUnavailableReason()` saying why) where it cannot be loaded. */
export function wasmGemm(): WasmGemm | null {
  if (loaded && (loaded.broken || loaded.memoryBytes > RETAIN_BYTES)) {
    void loaded.close();
    loaded = undefined;
  }
  if (loaded !== undefined) return loaded;
  try {
    loaded = gemmFromBytes(readFileSync(wasmPath), settings);
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    loaded = null;
  }
  return loaded;
}

export function wasmUnavailableReason(): string | undefined {
  wasmGemm();
  return failure;
}
