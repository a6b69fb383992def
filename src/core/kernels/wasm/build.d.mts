/** A module's bytes compiled from its current source (`gemm` from gemm.as, `numbers` from numbers.as). */
export declare function compileModule(name: "gemm" | "numbers"): Promise<Uint8Array>;
/** The module's bytes compiled from the current gemm.as. */
export declare function compileGemm(): Promise<Uint8Array>;
