import { readFileSync } from "node:fs";
import { dims, type Operand } from "./gemm-js.js";

/**
 * The WebAssembly SIMD (f64x2) GEMM built from wasm/gemm.as by `npm run build:wasm` into wasm/gemm.wasm
 * beside this module (in src/ for tsx and vitest, in dist/ for the built service). It is loaded lazily on the
 * first product large enough to want it; where it is missing or the engine cannot run it, `wasmGemm()` is
 * null and callers use the portable kernels.
 */
export interface WasmGemm {
  /** C = op(A)·op(B) as a new row-major m×n array, or null where the operands do not fit its memory. */
  multiply(a: Operand, b: Operand): Float64Array | null;
}

// The project's type libraries (ES2023 and @types/node) do not describe the WebAssembly JS API, so the little
// of it used here is declared here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

const WA = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  readonly memory: WasmMemory;
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
}

const PAGE = 65536;
/** Products whose operands would take the 32-bit memory past this stay on the portable kernels. */
const MAX_BYTES = 2 ** 31;

const align = (x: number) => Math.ceil(x / 64) * 64;

/**
 * Compiles and instantiates the module's bytes and wraps it: operands are copied into its memory, the product
 * copied out.
 */
export function gemmFromBytes(bytes: Uint8Array): WasmGemm {
  const ex = new WA.Instance(new WA.Module(bytes), {}).exports as Exports;
  const work = align(ex.heapBase());
  const operands = align(work + ex.workspaceBytes());
  return {
    multiply(a, b) {
      const { m, n, k } = dims(a, b);
      const pa = operands;
      const pb = align(pa + a.data.length * 8);
      const pc = align(pb + b.data.length * 8);
      const end = pc + m * n * 8;
      if (end > MAX_BYTES) return null;
      const memory = ex.memory;
      if (end > memory.buffer.byteLength) {
        try {
          memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
        } catch {
          return null;
        }
      }
      const heap = new Float64Array(memory.buffer);
      heap.set(a.data, pa / 8);
      heap.set(b.data, pb / 8);
      heap.fill(0, pc / 8, end / 8);
      ex.gemm(m, n, k, pa, a.cols, a.transposed ? 1 : 0, pb, b.cols, b.transposed ? 1 : 0, pc, n, work);
      return heap.slice(pc / 8, end / 8);
    },
  };
}

/** Where the build puts the module: beside this file, in src/ as in dist/. */
export const wasmPath = new URL("./wasm/gemm.wasm", import.meta.url);

let loaded: WasmGemm | null | undefined;
let failure: string | undefined;

/** The WebAssembly kernel, or null (with `wasmUnavailableReason()` saying why) where it cannot be loaded. */
export function wasmGemm(): WasmGemm | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = gemmFromBytes(readFileSync(wasmPath));
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
