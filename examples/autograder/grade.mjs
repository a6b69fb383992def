#!/usr/bin/env node
/**
 * Grades a folder of student submissions with gradserve and writes Gradescope's results.json for each.
 *
 *   GRADSERVE_URL=http://localhost:3000 node examples/autograder/grade.mjs problem.json submissions/ results/
 *
 * problem.json is a POST /v1/grade body without the submissions: {"problem": ..., "items": ..., "tolerance": ...}.
 * Every submissions/NAME.json is one student's answers; results/NAME/results.json is written for it, in the
 * layout Gradescope's autograder reads. All submissions go in one request, so the problem is computed once.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

const [problemFile, submissionsDir, resultsDir] = process.argv.slice(2);
if (!problemFile || !submissionsDir || !resultsDir) {
  console.error("usage: grade.mjs problem.json submissions-dir results-dir");
  process.exit(2);
}
const base = process.env.GRADSERVE_URL ?? "http://localhost:3000";
const headers = { "content-type": "application/json" };
if (process.env.GRADSERVE_API_KEY) headers.authorization = `Bearer ${process.env.GRADSERVE_API_KEY}`;

const request = JSON.parse(await readFile(problemFile, "utf8"));
const names = (await readdir(submissionsDir)).filter((f) => f.endsWith(".json")).sort();
const submissions = await Promise.all(
  names.map(async (f) => JSON.parse(await readFile(join(submissionsDir, f), "utf8"))),
);

const response = await fetch(`${base}/v1/grade?format=gradescope`, {
  method: "POST",
  headers,
  body: JSON.stringify({ ...request, submissions }),
});
const body = await response.json();
if (!response.ok) {
  console.error(`gradserve answered ${response.status}: ${body.detail ?? JSON.stringify(body)}`);
  process.exit(1);
}

for (const [i, file] of names.entries()) {
  const dir = join(resultsDir, basename(file, ".json"));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "results.json"), `${JSON.stringify(body[i], null, 2)}\n`);
  const max = body[i].tests.reduce((s, t) => s + t.max_score, 0);
  console.log(`${basename(file, ".json")}\t${body[i].score}/${max}`);
}
