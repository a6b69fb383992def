// Builds gemm.wasm from gemm.as with the AssemblyScript compiler (a devDependency): `npm run build:wasm`.
// The module is written beside its source (src/, where tsx and vitest load it) and into dist/ (where the
// built service loads it). Run with --check to fail instead when the written files differ from a fresh build.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = new URL("./", import.meta.url);
export const sourceUrl = new URL("gemm.as", here);
const targets = [new URL("gemm.wasm", here), new URL("../../../../dist/core/kernels/wasm/gemm.wasm", here)];

/** The module's bytes compiled from the current gemm.as (deterministic: same source, same bytes). */
export async function compileGemm() {
  const { default: asc } = await import("assemblyscript/asc");
  const source = await readFile(sourceUrl, "utf8");
  const result = await asc.compileString(
    { "gemm.ts": source },
    {
      optimizeLevel: 3,
      shrinkLevel: 0,
      runtime: "stub",
      noAssert: true,
      enable: ["simd", "threads"],
      // One shared memory for this thread and the worker threads (gemm-wasm.ts), at most 2 GiB.
      importMemory: true,
      sharedMemory: true,
      initialMemory: 1,
      maximumMemory: 32768,
    },
  );
  if (result.error || !result.binary) {
    throw new Error(`AssemblyScript failed on ${fileURLToPath(sourceUrl)}:\n${result.stderr.toString()}`);
  }
  return result.binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const binary = await compileGemm();
  for (const target of targets) {
    await mkdir(new URL("./", target), { recursive: true });
    await writeFile(target, binary);
  }
  console.log(`gemm.wasm: ${binary.length} bytes -> ${targets.map((t) => fileURLToPath(t)).join(", ")}`);
}
