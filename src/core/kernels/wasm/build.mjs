// Builds the WebAssembly modules from their AssemblyScript sources with the AssemblyScript compiler (a
// devDependency): `npm run build:wasm`. Each module is written beside its source (src/, where tsx and vitest
// load it) and into dist/ (where the built service loads it).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = new URL("./", import.meta.url);
const dist = new URL("../../../../dist/core/kernels/wasm/", here);

/** Each module's source and compiler options beyond the common ones. */
const modules = {
  // One shared memory for this thread and the worker threads (gemm-wasm.ts), at most 2 GiB.
  gemm: {
    enable: ["simd", "threads"],
    importMemory: true,
    sharedMemory: true,
    initialMemory: 1,
    maximumMemory: 32768,
  },
  // Its own memory (exported, as AssemblyScript does unless told to import one), grown by json-numbers.ts to the largest list so far.
  numbers: { initialMemory: 1 },
};

/** A module's bytes compiled from its current source (deterministic: same source, same bytes). */
export async function compileModule(name) {
  const { default: asc } = await import("assemblyscript/asc");
  const sourceUrl = new URL(`${name}.as`, here);
  const source = await readFile(sourceUrl, "utf8");
  const result = await asc.compileString(
    { [`${name}.ts`]: source },
    { optimizeLevel: 3, shrinkLevel: 0, runtime: "stub", noAssert: true, ...modules[name] },
  );
  if (result.error || !result.binary) {
    throw new Error(`AssemblyScript failed on ${fileURLToPath(sourceUrl)}:\n${result.stderr.toString()}`);
  }
  return result.binary;
}

/** gemm.wasm's bytes compiled from the current gemm.as. */
export const compileGemm = () => compileModule("gemm");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of Object.keys(modules)) {
    const binary = await compileModule(name);
    const targets = [new URL(`${name}.wasm`, here), new URL(`${name}.wasm`, dist)];
    for (const target of targets) {
      await mkdir(new URL("./", target), { recursive: true });
      await writeFile(target, binary);
    }
    console.log(`${name}.wasm: ${binary.length} bytes -> ${targets.map((t) => fileURLToPath(t)).join(", ")}`);
  }
}
