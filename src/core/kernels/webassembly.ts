// The project's type libraries (ES2023 and @types/node) do not describe the WebAssembly JS API, so the little
// of it the kernels use is declared here.

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
  readonly Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

export const WA = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

/** Bytes in a page of WebAssembly memory, the unit it grows by. */
export const PAGE = 65536;

/**
 * Grows `memory` to at least `end` bytes: false where the engine will not give that much (callers then fall
 * back to JavaScript, which allocates as it goes). Views of the memory made before a growth must be made again.
 */
export function growTo(memory: WasmMemory, end: number): boolean {
  const have = memory.buffer.byteLength;
  if (end <= have) return true;
  try {
    memory.grow(Math.ceil((end - have) / PAGE));
  } catch {
    return false;
  }
  return true;
}
