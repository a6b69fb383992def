import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gemmBlocked, gemmSimple, type Operand } from "../../src/core/kernels/gemm-js.js";
import { gemmFromBytes, type WasmGemm, wasmGemm, wasmPath } from "../../src/core/kernels/gemm-wasm.js";
import {
  chooseKernel,
  type KernelName,
  matmul,
  matmulReference,
  matmulTransA,
  matmulTransB,
  product,
  WASM_SIGMOID_FROM,
  wasmSigmoid,
} from "../../src/core/kernels/matmul.js";
import { compileGemm } from "../../src/core/kernels/wasm/build.mjs";
import { sigmoid } from "../../src/core/numerics.js";
import { registry } from "../../src/core/ops/registry.js";
import { type Tensor, transpose, zeros } from "../../src/core/tensor.js";
import { mulberry32 } from "../support/random.js";

const rng = mulberry32(20261127);

/** Entries of mixed sign and magnitude (1e-3 … 1e3), so that rounding differences would show. */
function random(rows: number, cols: number): Tensor {
  const t = zeros(rows, cols);
  for (let k = 0; k < t.data.length; k++) t.data[k] = (rng() - 0.5) * 10 ** (6 * rng() - 3);
  return t;
}

/** What each kernel promises: the reference's result to float64 rounding, |c - ref| ≤ 1e-12·Σ|a·b|. */
function expectClose(got: Tensor, a: Tensor, b: Tensor, ref: Tensor): void {
  expect([got.rows, got.cols]).toEqual([ref.rows, ref.cols]);
  const scale = matmulReference({ ...a, data: a.data.map(Math.abs) }, { ...b, data: b.data.map(Math.abs) }).data;
  for (let e = 0; e < ref.data.length; e++) {
    if (Math.abs(got.data[e] - ref.data[e]) > 1e-12 * scale[e]) {
      expect.fail(`entry ${e}: ${got.data[e]} vs the reference's ${ref.data[e]} (Σ|a·b| = ${scale[e]})`);
    }
  }
}

/**
 * What these kernels actually deliver: every entry summed in the reference's order (k ascending, from zero,
 * no fused multiply-add), so the results are identical bit for bit, NaN and the sign of zero included.
 */
function expectIdentical(got: Tensor, ref: Tensor): void {
  expect([got.rows, got.cols]).toEqual([ref.rows, ref.cols]);
  for (let e = 0; e < ref.data.length; e++) {
    if (!Object.is(got.data[e], ref.data[e])) {
      expect.fail(`entry ${e} of ${ref.rows}×${ref.cols}: ${got.data[e]} vs the reference's ${ref.data[e]}`);
    }
  }
}

type Variant = "A·B" | "Aᵀ·B" | "A·Bᵀ" | "Aᵀ·Bᵀ";
const variants: readonly [Variant, boolean, boolean][] = [
  ["A·B", false, false],
  ["Aᵀ·B", true, false],
  ["A·Bᵀ", false, true],
  ["Aᵀ·Bᵀ", true, true],
];

/** Operands stored so that op(A) is m×k and op(B) is k×n, and the reference product of op(A)·op(B). */
function problem(m: number, n: number, k: number, transA: boolean, transB: boolean) {
  const a = transA ? random(k, m) : random(m, k);
  const b = transB ? random(n, k) : random(k, n);
  const opA = transA ? transpose(a) : a;
  const opB = transB ? transpose(b) : b;
  return { a, b, opA, opB, ref: matmulReference(opA, opB) };
}

const operand = (t: Tensor, transposed: boolean): Operand => ({ ...t, transposed });

// Odd sizes, vectors and sizes on either side of every block boundary: the 4×4 register tile (MR, NR), the
// packed blocks MC = 64/128 (JS/WebAssembly), KC = 256 and NC = 512/1024.
const shapes: readonly [number, number, number][] = [
  [1, 1, 1],
  [1, 1, 7],
  [1, 9, 1],
  [9, 1, 1],
  [1, 13, 17],
  [13, 1, 17],
  [2, 3, 5],
  [3, 3, 3],
  [4, 4, 4],
  [5, 5, 5],
  [7, 11, 13],
  [8, 8, 8],
  [15, 17, 3],
  [31, 33, 65],
  [63, 65, 64],
  [64, 64, 256],
  [65, 3, 257],
  [127, 129, 255],
  [128, 4, 513],
  [129, 5, 1],
  [3, 513, 9],
  [2, 1025, 3],
  [6, 1029, 258],
  [0, 3, 4],
  [3, 0, 4],
  [3, 4, 0],
];

let freshWasm: WasmGemm;
let freshParallel: WasmGemm;
let freshBytes: Uint8Array;

beforeAll(async () => {
  // The WebAssembly kernel is compiled here from its current source, so the test checks gemm.as itself
  // whether or not `npm run build:wasm` has run. One instance runs on this thread alone; the other splits
  // every product, however small, between this thread and two workers.
  freshBytes = await compileGemm();
  freshWasm = gemmFromBytes(freshBytes, { threads: 1 });
  freshParallel = gemmFromBytes(freshBytes, { threads: 3, parallelFrom: 1 });
  expect(await freshParallel.warmUp(50_000), "the worker threads start").toBe(true);
}, 60_000);

afterAll(async () => {
  // Every non-empty product of the shape table went through the split path (the workers were up from the start).
  expect(freshParallel.splitProducts).toBe(shapes.filter(([m, n, k]) => m * n * k > 0).length * variants.length);
  await freshParallel.close();
});

describe("fast matmul kernels agree with the reference kernel", () => {
  const kernels: Record<string, (a: Operand, b: Operand, m: number, n: number) => Float64Array> = {
    simple: (a, b, m, n) => {
      const c = new Float64Array(m * n);
      gemmSimple(a, b, c);
      return c;
    },
    blocked: (a, b, m, n) => {
      const c = new Float64Array(m * n);
      gemmBlocked(a, b, c);
      return c;
    },
    wasm: (a, b) => freshWasm.multiply(a, b) ?? expect.fail("the operands fit the WebAssembly memory"),
    "wasm on 3 threads": (a, b) => freshParallel.multiply(a, b) ?? expect.fail("the workers answer"),
  };

  for (const [name, run] of Object.entries(kernels)) {
    for (const [variant, transA, transB] of variants) {
      it(`${name}: ${variant} on ${shapes.length} shapes from 1×1 to past the block sizes`, () => {
        for (const [m, n, k] of shapes) {
          const { a, b, opA, opB, ref } = problem(m, n, k, transA, transB);
          const got = { rows: m, cols: n, data: run(operand(a, transA), operand(b, transB), m, n) };
          expectClose(got, opA, opB, ref);
          expectIdentical(got, ref);
        }
      });
    }
  }

  it("on random shapes up to 150 in every variant, through product() with each kernel named", () => {
    for (let trial = 0; trial < 40; trial++) {
      const [m, n, k] = [0, 0, 0].map(() => 1 + Math.floor(rng() * 150));
      const [, transA, transB] = variants[trial % 4];
      const { a, b, opA, opB, ref } = problem(m, n, k, transA, transB);
      for (const kernel of ["simple", "blocked", "wasm"] as KernelName[]) {
        const got = product(a, transA, b, transB, kernel);
        expectClose(got, opA, opB, ref);
        expectIdentical(got, ref);
      }
    }
  });

  it("propagates NaN and ±Infinity exactly as the reference does (edge tiles included)", () => {
    for (const [m, n, k] of [
      [5, 7, 9],
      [66, 70, 300],
    ]) {
      const { a, b, ref: _ } = problem(m, n, k, false, false);
      a.data[3] = Number.POSITIVE_INFINITY;
      a.data[a.data.length - 1] = Number.NaN;
      b.data[b.data.length - 2] = Number.NEGATIVE_INFINITY;
      b.data[1] = 0;
      const ref = matmulReference(a, b);
      for (const kernel of ["simple", "blocked", "wasm"] as KernelName[]) {
        expectIdentical(product(a, false, b, false, kernel), ref);
      }
      expectIdentical(
        { rows: m, cols: n, data: freshWasm.multiply(operand(a, false), operand(b, false)) ?? zeros(0, 0).data },
        ref,
      );
    }
  });
});

describe("the matmul entry points", () => {
  it("matmul, matmulTransA and matmulTransB equal the reference on materialized transposes", () => {
    for (const [m, n, k] of [
      [1, 1, 1],
      [3, 4, 5],
      [8, 8, 8],
      [40, 30, 50],
      [128, 10, 256],
    ]) {
      const a = random(m, k);
      const b = random(k, n);
      const ref = matmulReference(a, b);
      expectIdentical(matmul(a, b), ref);
      expectIdentical(matmulTransA(transpose(a), b), ref);
      expectIdentical(matmulTransB(a, transpose(b)), ref);
    }
  });

  it("keep homework sizes (up to 8×8·8×8) on the plain loops, with no WebAssembly call", () => {
    for (let m = 1; m <= 8; m++) {
      for (let n = 1; n <= 8; n++) for (let k = 1; k <= 8; k++) expect(chooseKernel(m, n, k)).toBe("simple");
    }
    expect(chooseKernel(128, 256, 784)).toBe(wasmGemm() ? "wasm" : "blocked");
  });

  it("the matmul op's forward and backward equal the reference products", () => {
    const op = registry.get("matmul");
    if (!op) throw new Error("no matmul op");
    const a = random(37, 70);
    const b = random(70, 45);
    const g = random(37, 45);
    const forward = op.forward([a, b], {});
    expectIdentical(forward, matmulReference(a, b));
    const [da, db] = op.backward(g, [a, b], forward, {}, [true, true]);
    expectIdentical(da as Tensor, matmulReference(g, transpose(b)));
    expectIdentical(db as Tensor, matmulReference(transpose(a), g));
  });
});

describe("a GEMM worker thread that fails as it starts", () => {
  it("is left out: products run on the threads that did start, and the process goes on", async () => {
    const gemm = gemmFromBytes(freshBytes, { threads: 2, parallelFrom: 1 }, "throw new Error('no thread here');");
    const [a, b] = [random(40, 30), random(30, 50)];
    const product = () => Array.from(gemm.multiply({ ...a, transposed: false }, { ...b, transposed: false }) ?? []);
    const expected = Array.from(matmulReference(a, b).data);
    expect(product()).toEqual(expected);
    expect(await gemm.warmUp(20_000)).toBe(false);
    expect(product()).toEqual(expected);
    expect(gemm.splitProducts).toBe(0);
    expect(gemm.broken).toBe(false);
    await gemm.close();
  });
});

describe("the WebAssembly σ", () => {
  /** The entries of xs where the kernel's σ and numerics.ts's differ, as [x, kernel, numerics], at most five. */
  const mismatches = (xs: Float64Array): [number, number, number][] => {
    const y = new Float64Array(xs.length);
    expect(freshWasm.sigmoid(xs, y)).toBe(true);
    const out: [number, number, number][] = [];
    for (let i = 0; i < xs.length && out.length < 5; i++) {
      if (!Object.is(y[i], sigmoid(xs[i]))) out.push([xs[i], y[i], sigmoid(xs[i])]);
    }
    return out;
  };
  /** n doubles on each side of x, one unit in the last place apart. */
  const around = (x: number, n: number): number[] => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const bits = view.getBigUint64(0);
    return Array.from({ length: 2 * n + 1 }, (_, d) => {
      view.setBigUint64(0, bits + BigInt(d - n));
      return view.getFloat64(0);
    });
  };

  it("is bit for bit numerics.ts's sigmoid on a sweep from -800 to 800 and on random bit patterns", () => {
    expect(mismatches(Float64Array.from({ length: 2_000_001 }, (_, i) => -800 + i * 0.0008))).toEqual([]);
    const words = new Uint32Array(2_000_000).map(() => (rng() * 2 ** 32) >>> 0);
    expect(mismatches(new Float64Array(words.buffer))).toEqual([]);
    expect(mismatches(Float64Array.from({ length: 100_000 }, () => (rng() - 0.5) * 2 ** (-60 * rng())))).toEqual([]);
  });

  it("is bit for bit at fdlibm's range boundaries, where it hands entries back, and at every k's edges", () => {
    const edges = [
      0,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      5e-324,
      2 ** -28, // below: e = 1 + x
      0.5 * Math.LN2, // k = 0 below
      1.5 * Math.LN2,
      707, // from here on the entries are handed back to numerics.ts
      708.3964185322641, // e^-|x| near the smallest normal
      745.2, // e^-|x| subnormal, then 0
      800,
    ].flatMap((x) => [...around(x, 300), ...around(-x, 300)]);
    const halves = Array.from({ length: 1030 }, (_, k) => [(k + 0.5) * Math.LN2, k * Math.LN2]).flat();
    const xs = Float64Array.from([...edges, ...halves.flatMap((x) => [...around(x, 3), ...around(-x, 3)])]);
    expect(mismatches(xs)).toEqual([]);
  });

  it("any length, odd ones included (the last entry of an odd count is handed back)", () => {
    for (const n of [1, 2, 3, 7, 255, 256, 257, 1001]) {
      expect(mismatches(Float64Array.from({ length: n }, () => (rng() - 0.5) * 20)), `n = ${n}`).toEqual([]);
    }
  });

  it("is what the sigmoid op uses from WASM_SIGMOID_FROM entries, and its answer is the loop's", () => {
    const op = registry.get("sigmoid");
    if (!op) return expect.fail("no sigmoid op");
    for (const n of [WASM_SIGMOID_FROM - 1, WASM_SIGMOID_FROM, 4 * WASM_SIGMOID_FROM + 1]) {
      const x = random(1, n);
      const y = op.forward([x], {});
      expect(Array.from(y.data)).toEqual(Array.from(x.data, sigmoid));
    }
    expect(wasmSigmoid(new Float64Array(WASM_SIGMOID_FROM - 1), new Float64Array(WASM_SIGMOID_FROM - 1))).toBe(false);
    expect(wasmSigmoid(new Float64Array(WASM_SIGMOID_FROM), new Float64Array(WASM_SIGMOID_FROM))).toBe(
      wasmGemm() !== null,
    );
  });
});

describe("the built WebAssembly module", () => {
  it("is the one its source compiles to, when it has been built", () => {
    if (!existsSync(wasmPath)) return; // not built: the service uses the portable kernels
    const built = new Uint8Array(readFileSync(wasmPath));
    expect(Buffer.compare(built, freshBytes), `${wasmPath.pathname} is stale: run 'npm run build:wasm'`).toBe(0);
    expect(wasmGemm()).not.toBeNull();
  });
});
