/**
 * Rewrites the JSON block after every curl example in README.md with what the example prints against the
 * real app: `npm run readme:examples`. test/readme.test.ts checks that the README still matches.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { buildApp } from "../src/app.js";
import { readmePictures, sigmoidChain } from "../test/support/readme.js";

const run = promisify(execFile);
const readmeUrl = new URL("../README.md", import.meta.url);

/** One line, with a space after each comma and colon between values (never inside strings). */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

/** JSON laid out for reading: short values on one line, longer objects and arrays broken up. */
function layout(value: unknown, indent = ""): string {
  const flat = inline(value);
  if (flat.length + indent.length <= 110 || value === null || typeof value !== "object") return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + layout(v, inner)).join(",\n")}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${layout(v, inner)}`,
  );
  return `{\n${entries.join(",\n")}\n${indent}}`;
}

const app = await buildApp();
const origin = await app.listen({ port: 0, host: "127.0.0.1" });
let readme = await readFile(readmeUrl, "utf8");
const pattern = /(```sh\n)(curl(?:(?!```)[\s\S])*)(```\n\n```json\n)((?:(?!```)[\s\S])*)(```)/g;
const replacements: [string, string][] = [];
for (const m of readme.matchAll(pattern)) {
  const { stdout } = await run("sh", ["-c", m[2].trim().replaceAll("http://localhost:3000", origin)]);
  replacements.push([m[0], `${m[1]}${m[2]}${m[3]}${layout(JSON.parse(stdout))}\n${m[5]}`]);
}
for (const [from, to] of replacements) readme = readme.replace(from, to);
await writeFile(readmeUrl, readme);

// The pictures the README shows, drawn by the service itself.
for (const [file, format] of readmePictures) {
  const res = await fetch(`${origin}/v1/gradients`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...sigmoidChain, format }),
  });
  await writeFile(new URL(`../${file}`, import.meta.url), await res.text());
}
await app.close();
console.log(`updated ${replacements.length} examples in README.md`);
