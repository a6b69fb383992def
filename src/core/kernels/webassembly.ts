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
