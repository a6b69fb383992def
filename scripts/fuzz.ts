/**
 * Fuzzes a running gradserve with the generators of the fuzz suite (test/fuzz/generators.ts) for a given
 * time, and prints how many requests of each kind it sent and the statuses they got. Every answer must be a
 * 4xx problem+json or a well-formed 200; anything else is printed, saved under test-results/fuzz/ and makes
 * the exit code 1.
 *
 *   npm run build && node dist/server.js &
 *   npm run fuzz -- --seconds 30 [--url http://127.0.0.1:3000] [--seed 1] [--timeout 30000]
 *
 * Only loopback targets are accepted: this sends 16 MB bodies and 100000-deep arrays as fast as it can.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { defaultFuzzOptions, type FuzzRequest, fuzzRequests, type Kind, kinds } from "../test/fuzz/generators.js";
import { type Sent, send, violations } from "../test/fuzz/oracle.js";

function readArgs() {
  try {
    return parseArgs({
      options: {
        url: { type: "string", default: "http://127.0.0.1:3000" },
        seconds: { type: "string", default: "30" },
        seed: { type: "string" },
        timeout: { type: "string", default: "30000" },
        "expression-limit": { type: "string", default: String(defaultFuzzOptions.expressionLimit) },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`fuzz: ${(e as Error).message}`);
    process.exit(2);
  }
}
const values = readArgs();

if (values.help) {
  console.log(
    "usage: npm run fuzz -- [--url http://127.0.0.1:3000] [--seconds 30] [--seed N] [--timeout ms] [--expression-limit N]",
  );
  process.exit(0);
}

function fail(message: string): never {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}

const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 24 * 3600)) fail(`--seconds must be between 0 and 86400, got ${values.seconds}`);
const timeoutMs = Number(values.timeout);
if (!(timeoutMs > 0)) fail(`--timeout must be a positive number of milliseconds, got ${values.timeout}`);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${values.seed}`);
const expressionLimit = Number(values["expression-limit"]);
if (!(Number.isInteger(expressionLimit) && expressionLimit > 0)) fail("--expression-limit must be a positive integer");

let target: URL;
try {
  target = new URL(values.url);
} catch {
  fail(`--url is not a URL: ${values.url}`);
}
/** Loopback only: 127.0.0.0/8, ::1 and localhost. */
const loopback = (host: string) =>
  host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
if (target.protocol !== "http:" && target.protocol !== "https:") fail(`--url must be http(s), got ${target.protocol}`);
if (!loopback(target.hostname)) fail(`refusing to fuzz ${target.hostname}: only loopback addresses are allowed`);
const origin = target.origin;

async function healthy(): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

if (!(await healthy()))
  fail(`no server answers ${origin}/healthz; start one with: npm run build && node dist/server.js`);

const options = { ...defaultFuzzOptions, expressionLimit };
const generator = fuzzRequests(options);
const BATCH = 25;
const MAX_BATCHES = 1_000_000;
const HEALTH_EVERY = 100;
const MAX_SAVED = 50;
const MAX_RETRIES = 3;

/** Seconds to wait before sending again when the server shed the request; 0 when it did not. */
const shedding = (answer: Sent): number =>
  "status" in answer && answer.status === 503 && answer.retryAfter !== null && answer.text.includes(":overloaded")
    ? Math.min(5, Number(answer.retryAfter) || 1)
    : 0;

const byKind = new Map<Kind, Map<string, number>>(kinds.map((k) => [k, new Map()]));
const byStatus = new Map<string, number>();
const problems: { req: FuzzRequest; sent: Sent; wrong: string[] }[] = [];
let sent = 0;
let shed = 0;
let bytes = 0;
let slowest = { ms: 0, kind: "", path: "" };
let stoppedAnswering = false;

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
const deadline = Date.now() + seconds * 1000;
const started = Date.now();
console.log(`fuzzing ${origin} for ${seconds} s with seed ${seed}`);

outer: for (let batch = 0; batch < MAX_BATCHES && Date.now() < deadline; batch++) {
  for (const req of fc.sample(generator, { seed: seed + batch, numRuns: BATCH })) {
    if (Date.now() >= deadline) break outer;
    let answer = await send(origin, req, timeoutMs);
    // Load shedding (503 overloaded with Retry-After) follows a request that held the event loop: a polite
    // client waits and sends again, and so does this one, a few times.
    for (let retry = 0, wait = shedding(answer); retry < MAX_RETRIES && wait > 0; retry++, wait = shedding(answer)) {
      shed++;
      await new Promise((r) => setTimeout(r, wait * 1000));
      answer = await send(origin, req, timeoutMs);
    }
    sent++;
    bytes += Buffer.byteLength(req.body);
    const status = "failure" in answer ? answer.failure : String(answer.status);
    bump(byKind.get(req.kind) as Map<string, number>, status);
    bump(byStatus, status);
    if (answer.ms > slowest.ms) slowest = { ms: answer.ms, kind: req.kind, path: req.path };
    const wrong = violations(req, answer);
    if (wrong.length > 0) problems.push({ req, sent: answer, wrong });
    if (sent % HEALTH_EVERY === 0 && !(await healthy())) {
      stoppedAnswering = true;
      break outer;
    }
  }
}
if (!stoppedAnswering && !(await healthy())) stoppedAnswering = true;

const elapsed = (Date.now() - started) / 1000;
const statuses = [...byStatus.keys()].sort();
const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(`\n${sent} requests (${(bytes / 1e6).toFixed(1)} MB) in ${elapsed.toFixed(1)} s, seed ${seed}\n`);
console.log(`${"kind".padEnd(16)}${pad("sent", 7)}${statuses.map((s) => pad(s, 8)).join("")}`);
for (const [kind, counts] of byKind) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`${kind.padEnd(16)}${pad(total, 7)}${statuses.map((s) => pad(counts.get(s) ?? 0, 8)).join("")}`);
}
console.log(`${"all".padEnd(16)}${pad(sent, 7)}${statuses.map((s) => pad(byStatus.get(s) ?? 0, 8)).join("")}`);
console.log(`\nslowest: ${slowest.ms} ms (${slowest.kind} POST ${slowest.path})`);
console.log(`shed with 503 overloaded and sent again after Retry-After: ${shed}`);
console.log(`/healthz afterwards: ${stoppedAnswering ? "NOT ANSWERING" : "200"}`);

if (problems.length > 0) {
  await mkdir("test-results/fuzz", { recursive: true });
  // One line per kind of violation (numbers and long paths folded), with a saved body to reproduce it.
  const groups = new Map<string, { count: number; example: string; file: string }>();
  for (const [i, { req, sent: answer, wrong }] of problems.entries()) {
    const path = req.path.length > 60 ? `${req.path.slice(0, 40)}…(${req.path.length} chars)` : req.path;
    const status = "status" in answer ? answer.status : answer.failure;
    const key = `${req.route} ${status}: ${wrong[0].replace(/\d+(\.\d+)?/g, "N").slice(0, 120)}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      continue;
    }
    const file = `test-results/fuzz/${String(i).padStart(3, "0")}-${req.kind}.json`;
    if (groups.size < MAX_SAVED) await writeFile(file, req.body);
    const type = "text" in answer ? ` -> ${answer.contentType}` : "";
    groups.set(key, { count: 1, example: `${req.kind} POST ${path}${type}: ${wrong[0].slice(0, 200)}`, file });
  }
  console.log(
    `\n${problems.length} responses broke the contract, ${groups.size} distinct (bodies in test-results/fuzz/):`,
  );
  for (const { count, example, file } of groups.values())
    console.log(`  ${pad(count, 5)} × ${example}\n          body: ${file}`);
}
console.log(problems.length === 0 && !stoppedAnswering ? "\nno contract violations" : "");
process.exit(problems.length === 0 && !stoppedAnswering ? 0 : 1);
