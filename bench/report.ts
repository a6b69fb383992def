/**
 * Assembles bench/RESULTS.md from the sections the benchmarks write to bench/results/: a header with the
 * machine and versions, then kernels.md (bench:kernels), http.md, transport.md, isolation.md, memory.md and
 * growth.md, in that order; a section that is missing is left out. `npm run bench` runs it last.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDir, machine, resultsDir } from "./support.js";

const ORDER = ["kernels", "http", "transport", "isolation", "memory", "growth"];

const m = machine();
const sections = ORDER.map((name) => ({ name, file: path.join(resultsDir, `${name}.md`) })).filter((s) =>
  existsSync(s.file),
);
const lines = [
  "# Benchmark results",
  "",
  "Assembled by `npm run bench` (bench/report.ts) from bench/results/*.md; do not edit by hand. Every figure is",
  "measured against a baseline taken in the same run on the same machine; timings are never asserted. How each",
  "benchmark measures: bench/README.md (kernels) and bench/HTTP.md (the HTTP benchmarks).",
  "",
  "| | |",
  "| --- | --- |",
  `| date | ${new Date().toISOString()} |`,
  `| machine | ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${m.memory}, ${m.kernel} |`,
  `| load average (1, 5, 15 min) at assembly | ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(", ")} |`,
  `| node | ${m.node} |`,
  `| fastify | ${m.fastify} |`,
  `| autocannon | ${m.autocannon} |`,
  `| numpy | ${m.numpy} |`,
  `| sections | ${sections.map((s) => `results/${s.name}.md`).join(", ") || "none"} |`,
  "",
];
for (const s of sections) {
  // Sections link files relative to bench/results/; RESULTS.md sits one level up. A section written as a
  // document of its own (a # title) is demoted one level, so that every section is a ## under this title.
  let text = readFileSync(s.file, "utf8").trim().replaceAll("](../", "](");
  if (text.startsWith("# ")) text = text.replace(/^(#+) /gm, "#$1 ");
  lines.push(text, "");
}
const out = path.join(benchDir, "RESULTS.md");
writeFileSync(out, lines.join("\n"));
console.log(`wrote ${path.relative(path.dirname(benchDir), out)}: ${sections.map((s) => s.name).join(", ")}`);
