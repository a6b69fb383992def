export declare const sourceUrl: URL;
/** The module's bytes compiled from the current gemm.as. */
export declare function compileGemm(): Promise<Uint8Array>;
