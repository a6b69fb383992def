import { type Tensor, transpose, zeros } from "../tensor.js";
import { dims, gemmBlocked, gemmSimple, type Operand } from "./gemm-js.js";
import { wasmGemm } from "./gemm-wasm.js";

/**
 * C = A·B with the i-k-j loop order, so the innermost loop walks B and C along rows (unit stride).
 * This is the reference kernel; faster kernels must agree with it to float64 rounding (the ones below agree
 * bit for bit: see gemm-js.ts).
 */
export function matmulReference(a: Tensor, b: Tensor): Tensor {
  const m = a.rows;
  const n = b.cols;
  const kk = a.cols;
  const out = zeros(m, n);
  const ad = a.data;
  const bd = b.data;
  const c = out.data;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let k = 0; k < kk; k++) {
      const aik = ad[i * kk + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * bd[bk + j];
    }
  }
  return out;
}

/**
 * The kernels behind `product`: `simple` is plain loops (the cheapest for small matrices), `blocked` the
 * cache-blocked pure-JavaScript kernel (the portable fallback for large ones), `wasm` the WebAssembly SIMD one,
 * and `reference` the reference kernel on materialized transposes (what the matmul op did before the fast
 * kernels; for benchmarks).
 */
export type KernelName = "reference" | "simple" | "blocked" | "wasm";

let forced: KernelName | undefined;

/**
 * Makes every product that names no kernel use this one (undefined: choose by size again). For benchmarks
 * that time the whole graph on one kernel; the service never calls it.
 */
export function forceKernel(kernel: KernelName | undefined): void {
  forced = kernel;
}

/**
 * Below this many multiply-adds (m·n·k) the plain loops win: packing and copying into the WebAssembly memory
 * cost more than they save. Measured with bench/kernels.ts's crossover table (about 10³ on x64), so every
 * product of homework size (up to 8×8·8×8) stays on the plain loops.
 */
export const SMALL_PRODUCT = 1024;

/**
 * From this many entries σ runs in the WebAssembly kernel (unless a benchmark forced another kernel): below,
 * the copies in and out of its memory cost more than its f64x2 lanes save (~9 ns an entry in JavaScript,
 * ~5 in the kernel with its copies).
 */
export const WASM_SIGMOID_FROM = 256;

/** y = σ(x) in the WebAssembly kernel where it is worth it and available: false if the caller must loop. */
export function wasmSigmoid(x: Float64Array, y: Float64Array): boolean {
  if (x.length < WASM_SIGMOID_FROM || (forced !== undefined && forced !== "wasm")) return false;
  return wasmGemm()?.sigmoid(x, y) ?? false;
}

/** The kernel `product` uses for an m×k·k×n product when none is named. */
export function chooseKernel(m: number, n: number, k: number): KernelName {
  if (m * n * k < SMALL_PRODUCT) return "simple";
  return wasmGemm() ? "wasm" : "blocked";
}

/**
 * op(A)·op(B), where op(X) is Xᵀ when its flag is set; transposed operands are read in place, never
 * materialized. The caller checks that the inner dimensions agree. `kernel` forces one kernel (tests and
 * benchmarks); an unavailable `wasm` kernel falls back to the blocked one.
 */
export function product(a: Tensor, transA: boolean, b: Tensor, transB: boolean, kernel?: KernelName): Tensor {
  const left: Operand = { data: a.data, rows: a.rows, cols: a.cols, transposed: transA };
  const right: Operand = { data: b.data, rows: b.rows, cols: b.cols, transposed: transB };
  const { m, n, k } = dims(left, right);
  const use = kernel ?? forced ?? chooseKernel(m, n, k);
  if (use === "reference") return matmulReference(transA ? transpose(a) : a, transB ? transpose(b) : b);
  if (use === "wasm" && m > 0 && n > 0) {
    const data = wasmGemm()?.multiply(left, right);
    if (data) return { rows: m, cols: n, data };
  }
  const out = zeros(m, n);
  if (use === "simple") gemmSimple(left, right, out.data);
  else gemmBlocked(left, right, out.data);
  return out;
}

/** A·B. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return product(a, false, b, false);
}

/** Aᵀ·B without forming Aᵀ. */
export function matmulTransA(a: Tensor, b: Tensor): Tensor {
  return product(a, true, b, false);
}

/** A·Bᵀ without forming Bᵀ. */
export function matmulTransB(a: Tensor, b: Tensor): Tensor {
  return product(a, false, b, true);
}
