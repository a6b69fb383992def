/**
 * Issue 6, target 6: cost against size. POST /v1/gradients on a two-layer MLP w→w→w (sigmoid hidden layer,
 * mse, rows layout, random float64 values written in full) for widths w = 2…2048 and batches b = 1…1024, one
 * request at a time over loopback to the built server (`node dist/server.js`, LOG_LEVEL=silent, default
 * pool; BODY_LIMIT and MAX_ELEMENTS raised so that the large points are admitted). Each point's time is the
 * median of a few requests; a point is skipped when a smaller one (no wider, no larger batch) already took
 * longer than the per-request budget, when its JSON would pass 300 MB, or when the sweep's time budget is spent.
 * Plots time against the service's own FLOP estimate (src/core/cost.ts) on log-log axes with the HTTP floor
 * (the homework 1 request's time) into bench/growth.svg, a self-contained SVG written by hand.
 *
 * Writes bench/results/growth.md and bench/growth.svg. `npm run bench:growth` (after `npm run build`); at most
 * about 4 minutes. Environment: GROWTH_BUDGET_S (180, the sweep), GROWTH_REQUEST_MS (4000, one request).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type * as Examples from "../src/api/examples.js";
import type * as Compile from "../src/core/compile/network.js";
import type * as Cost from "../src/core/cost.js";
import type * as TensorModule from "../src/core/tensor.js";
import {
  benchDir,
  builtModule,
  loadNote,
  median,
  ms,
  mulberry32,
  post,
  startGradserve,
  table,
  writeSection,
} from "./support.js";

const WIDTHS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
const BATCHES = [1, 4, 16, 64, 256, 1024];
const sweepBudgetMs = Math.min(900, Number(process.env.GROWTH_BUDGET_S ?? 180)) * 1000;
const requestBudgetMs = Math.min(60_000, Number(process.env.GROWTH_REQUEST_MS ?? 4000));
const MAX_JSON_BYTES = 300e6;
const OFFLOAD_ABOVE = 2e7; // POOL_OFFLOAD_FLOPS's default (src/api/pool.ts)

const { homeworkExamples } = await builtModule<typeof Examples>("api/examples.js");
const { compileNetwork } = await builtModule<typeof Compile>("core/compile/network.js");
const { estimateFlops, leafEntries, nodeWork } = await builtModule<typeof Cost>("core/cost.js");
const { zeros } = await builtModule<typeof TensorModule>("core/tensor.js");

/**
 * The service's own estimates for the shapes (its FLOPs, and the work that decides where it runs), and how many
 * numbers the request holds.
 */
function cost(w: number, b: number): { flops: number; work: number; numbers: number } {
  const { graph } = compileNetwork({
    layout: "rows",
    layers: [
      { name: "hidden", weight: zeros(w, w), bias: zeros(1, w), activation: "sigmoid" },
      { name: "out", weight: zeros(w, w), bias: zeros(1, w), activation: "identity" },
    ],
    loss: "mse",
    input: zeros(b, w),
    target: zeros(b, w),
  });
  const flops = estimateFlops(graph);
  return { flops, work: flops + nodeWork(graph, 1), numbers: leafEntries(graph) };
}

/** The request as JSON, written row by row so that the large ones need no giant intermediate object. */
function body(w: number, b: number): string {
  const rng = mulberry32(w * 7919 + b);
  const row = (n: number, scale: number, shift: number) => {
    const xs = new Array<number>(n);
    for (let j = 0; j < n; j++) xs[j] = (rng() + shift) * scale;
    return JSON.stringify(xs);
  };
  const matrix = (r: number, c: number, scale: number, shift = -0.5) =>
    `[${Array.from({ length: r }, () => row(c, scale, shift)).join(",")}]`;
  const s = 2 / Math.sqrt(w);
  return `{"network":{"layout":"rows","layers":[{"name":"hidden","weight":${matrix(w, w, s)},"bias":${row(w, 0.2, -0.5)},"activation":"sigmoid"},{"name":"out","weight":${matrix(w, w, s)},"bias":${row(w, 0.2, -0.5)}}],"loss":"mse"},"input":${matrix(b, w, 1, 0)},"target":${matrix(b, w, 1)}}`;
}

interface Point {
  readonly w: number;
  readonly b: number;
  readonly flops: number;
  readonly numbers: number;
  readonly bytes: number;
  readonly responseBytes: number;
  readonly ms: number;
  readonly reps: number;
  readonly pool: boolean;
}
type Skip = { readonly w: number; readonly b: number; readonly why: string };

const startLoad = os.loadavg()[0];
const started = performance.now();
const server = await startGradserve(
  {
    LOG_LEVEL: "silent",
    BODY_LIMIT: String(1024 * 1024 * 1024),
    MAX_ELEMENTS: "100000000",
    COMPUTE_DEADLINE_MS: "120000",
  },
  "gradserve growth",
);
const points: Point[] = [];
const skipped: Skip[] = [];
let floorMs = Number.NaN;
try {
  // The HTTP floor: the homework 1 request, one at a time.
  const hw = JSON.stringify(homeworkExamples.homework1.value);
  const floor: number[] = [];
  for (let i = 0; i < 250; i++) {
    const r = await post(server.origin, "/v1/gradients", hw);
    if (i >= 50) floor.push(r.ms);
  }
  floorMs = median(floor);
  console.log(`HTTP floor (homework 1, sequential): ${ms(floorMs, 3)} ms`);

  for (const w of WIDTHS) {
    for (const b of BATCHES) {
      const slower = points.find((p) => p.w <= w && p.b <= b && p.ms > requestBudgetMs);
      const estimatedBytes = 20 * (2 * w * w + 2 * w + 2 * b * w);
      if (slower) {
        skipped.push({ w, b, why: `w=${slower.w}, b=${slower.b} took ${ms(slower.ms / 1000, 1)} s` });
        continue;
      }
      if (estimatedBytes > MAX_JSON_BYTES) {
        skipped.push({ w, b, why: `about ${Math.round(estimatedBytes / 1e6)} MB of JSON` });
        continue;
      }
      if (performance.now() - started > sweepBudgetMs) {
        skipped.push({ w, b, why: "the sweep's time budget was spent" });
        continue;
      }
      const text = body(w, b);
      const { flops, work, numbers } = cost(w, b);
      const times: number[] = [];
      let spent = 0;
      let warmed = false;
      let responseBytes = 0;
      while (times.length < 7 && !(times.length >= 3 && spent > 1500) && !(spent > 3000 && times.length >= 1)) {
        const r = await post(server.origin, "/v1/gradients", text);
        if (r.status !== 200) throw new Error(`w=${w} b=${b}: ${r.status} ${r.body.toString().slice(0, 300)}`);
        spent += r.ms;
        responseBytes = r.responseBytes;
        // The first call of a size warms the JIT (and the pool); it is kept only when it is expensive.
        if (!warmed && r.ms < 500) {
          warmed = true;
          continue;
        }
        warmed = true;
        times.push(r.ms);
      }
      const point = {
        w,
        b,
        flops,
        numbers,
        bytes: text.length,
        responseBytes,
        ms: median(times),
        reps: times.length,
        pool: work > OFFLOAD_ABOVE,
      };
      points.push(point);
      console.log(
        `w=${w} b=${b}: ${(text.length / 1e6).toFixed(2)} MB, ${flops.toExponential(2)} FLOPs, ${ms(point.ms, 2)} ms (${times.length} reps)`,
      );
    }
  }
} finally {
  await server.stop();
}
const sweepSeconds = (performance.now() - started) / 1000;

// ------------------------------------------------------------------ fits
/** JSON bytes the request moves, in and out. */
const json = (p: Point) => p.bytes + p.responseBytes;

/** Least squares of t = a + b·FLOPs + c·(JSON bytes), in relative error (each row divided by t), by normal equations. */
function fitModel(ps: readonly Point[]): { a: number; b: number; c: number } {
  const rows = ps.map((p) => [1 / p.ms, p.flops / p.ms, json(p) / p.ms]);
  const A = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[i] * r[j], 0)));
  const y = [0, 1, 2].map((i) => rows.reduce((s, r) => s + r[i], 0));
  // Gaussian elimination with partial pivoting on the 3×3 system.
  const M = A.map((r, i) => [...r, y[i]]);
  for (let k = 0; k < 3; k++) {
    const p = [k, k + 1, k + 2]
      .filter((i) => i < 3)
      .reduce((m, i) => (Math.abs(M[i][k]) > Math.abs(M[m][k]) ? i : m), k);
    [M[k], M[p]] = [M[p], M[k]];
    for (let i = k + 1; i < 3; i++) {
      const f = M[i][k] / M[k][k];
      for (let j = k; j < 4; j++) M[i][j] -= f * M[k][j];
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--)
    x[i] = (M[i][3] - M[i].slice(i + 1, 3).reduce((s, v, j) => s + v * x[i + 1 + j], 0)) / M[i][i];
  return { a: x[0], b: x[1], c: x[2] };
}
const model = fitModel(points);
const predict = (p: Point) => model.a + model.b * p.flops + model.c * json(p);
const relErr = points.map((p) => Math.abs(predict(p) - p.ms) / p.ms);
// The plain FLOPs model, floor + FLOPs / R, with R from the points far above the floor.
const heavy = points.filter((p) => p.ms > 10 * floorMs && p.flops >= 1e8);
const rate = heavy.length > 0 ? median(heavy.map((p) => p.flops / (p.ms - floorMs))) : Number.NaN; // FLOPs per ms
const flopsOnly = (p: Point) => floorMs + p.flops / rate;

// ------------------------------------------------------------------ the chart
const COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];
const SUP: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};
const pow10 = (k: number) => `10${String(k).replace(/./g, (c) => SUP[c] ?? c)}`;
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function chart(): string {
  const W = 960;
  const H = 640;
  const m = { left: 80, right: 230, top: 70, bottom: 70 };
  const xs = points.map((p) => p.flops);
  const ys = [...points.map((p) => p.ms), floorMs];
  const x0 = Math.floor(Math.log10(Math.min(...xs)));
  const x1 = Math.ceil(Math.log10(Math.max(...xs)));
  const y0 = Math.floor(Math.log10(Math.min(...ys)));
  const y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const X = (v: number) => m.left + ((Math.log10(v) - x0) / (x1 - x0)) * (W - m.left - m.right);
  const Y = (v: number) => H - m.bottom - ((Math.log10(v) - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>gradserve: time of POST /v1/gradients against estimated FLOPs</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left}" y="28" font-size="16" font-weight="bold">POST /v1/gradients: time against estimated FLOPs (log-log)</text>`,
    `<text x="${m.left}" y="48" fill="#555">Two-layer MLP w→w→w, sigmoid, mse, batch b, one request at a time over loopback; ${esc(new Date().toISOString().slice(0, 10))}, ${os.availableParallelism()} cores, node ${process.version}</text>`,
  );
  for (let k = x0; k <= x1; k++) {
    parts.push(
      `<line x1="${f(X(10 ** k))}" y1="${m.top}" x2="${f(X(10 ** k))}" y2="${H - m.bottom}" stroke="#e5e5e5"/>`,
      `<text x="${f(X(10 ** k))}" y="${H - m.bottom + 18}" text-anchor="middle">${pow10(k)}</text>`,
    );
  }
  for (let k = y0; k <= y1; k++) {
    parts.push(
      `<line x1="${m.left}" y1="${f(Y(10 ** k))}" x2="${W - m.right}" y2="${f(Y(10 ** k))}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 8}" y="${f(Y(10 ** k) + 4)}" text-anchor="end">${k >= 0 ? (10 ** k).toFixed(0) : (10 ** k).toFixed(-k)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#999"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 22}" text-anchor="middle">estimated floating-point operations of the request (src/core/cost.ts)</text>`,
    `<text transform="translate(22 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">time per request, ms (median)</text>`,
  );
  // The offload threshold.
  parts.push(
    `<line x1="${f(X(OFFLOAD_ABOVE))}" y1="${m.top}" x2="${f(X(OFFLOAD_ABOVE))}" y2="${H - m.bottom}" stroke="#bbb" stroke-dasharray="2 3"/>`,
    `<text x="${f(X(OFFLOAD_ABOVE) + 4)}" y="${m.top + 14}" fill="#888">worker pool above 2·10⁷</text>`,
  );
  // The HTTP floor and the FLOPs-only model.
  parts.push(
    `<line x1="${m.left}" y1="${f(Y(floorMs))}" x2="${W - m.right}" y2="${f(Y(floorMs))}" stroke="#333" stroke-dasharray="6 4"/>`,
    `<text x="${W - m.right - 6}" y="${f(Y(floorMs) + 16)}" text-anchor="end" fill="#333">HTTP floor: homework 1, ${ms(floorMs, 2)} ms</text>`,
  );
  if (Number.isFinite(rate)) {
    const curve: string[] = [];
    for (let i = 0; i <= 120; i++) {
      const v = 10 ** (x0 + ((x1 - x0) * i) / 120);
      const t = floorMs + v / rate;
      if (t <= 10 ** y1) curve.push(`${f(X(v))},${f(Y(t))}`);
    }
    parts.push(
      `<polyline points="${curve.join(" ")}" fill="none" stroke="#c00" stroke-width="1.5" stroke-dasharray="8 3"/>`,
    );
  }
  BATCHES.forEach((b, i) => {
    const ps = points.filter((p) => p.b === b).sort((p, q) => p.flops - q.flops);
    if (ps.length === 0) return;
    parts.push(
      `<polyline points="${ps.map((p) => `${f(X(p.flops))},${f(Y(p.ms))}`).join(" ")}" fill="none" stroke="${COLORS[i]}" stroke-opacity="0.6"/>`,
    );
    for (const p of ps) {
      const title = `<title>w=${p.w}, b=${p.b}: ${ms(p.ms, 2)} ms, ${p.flops.toExponential(2)} FLOPs, ${(p.bytes / 1e6).toFixed(2)} MB of JSON${p.pool ? ", worker pool" : ", event loop"}</title>`;
      parts.push(
        p.pool
          ? `<rect x="${f(X(p.flops) - 3.5)}" y="${f(Y(p.ms) - 3.5)}" width="7" height="7" fill="${COLORS[i]}">${title}</rect>`
          : `<circle cx="${f(X(p.flops))}" cy="${f(Y(p.ms))}" r="3.5" fill="${COLORS[i]}">${title}</circle>`,
      );
    }
  });
  // Legend.
  const lx = W - m.right + 16;
  let ly = m.top + 8;
  parts.push(`<text x="${lx}" y="${ly}" font-weight="bold">batch b</text>`);
  BATCHES.forEach((b, i) => {
    ly += 18;
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${COLORS[i]}"/>`,
      `<circle cx="${lx + 11}" cy="${ly - 4}" r="3.5" fill="${COLORS[i]}"/>`,
      `<text x="${lx + 30}" y="${ly}">${b}</text>`,
    );
  });
  ly += 28;
  parts.push(
    `<circle cx="${lx + 11}" cy="${ly - 4}" r="3.5" fill="#666"/><text x="${lx + 30}" y="${ly}">on the event loop</text>`,
  );
  ly += 18;
  parts.push(
    `<rect x="${lx + 7.5}" y="${ly - 7.5}" width="7" height="7" fill="#666"/><text x="${lx + 30}" y="${ly}">in the worker pool</text>`,
  );
  ly += 26;
  parts.push(
    `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="#333" stroke-dasharray="6 4"/><text x="${lx + 30}" y="${ly}">HTTP floor</text>`,
  );
  if (Number.isFinite(rate)) {
    ly += 18;
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="#c00" stroke-dasharray="8 3"/><text x="${lx + 30}" y="${ly}">floor + FLOPs / ${(rate / 1e6).toFixed(1)} GFLOP/s</text>`,
    );
  }
  ly += 24;
  parts.push(`<text x="${lx}" y="${ly}" fill="#555">widths w: ${WIDTHS[0]}…${WIDTHS[WIDTHS.length - 1]}</text>`);
  ly += 16;
  parts.push(`<text x="${lx}" y="${ly}" fill="#555">(hover a point for w, b)</text>`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
const svgFile = path.join(benchDir, "growth.svg");
writeFileSync(svgFile, chart());
console.log(`wrote ${path.relative(path.dirname(benchDir), svgFile)}`);

// ------------------------------------------------------------------ the report
const at = (w: number, b: number) => points.find((p) => p.w === w && p.b === b);
const lines: string[] = [];
const out = (s = "") => lines.push(s);
out("## Cost against size (issue 6, target 6)");
out();
out(
  `\`npm run bench:growth\` (bench/growth.ts) draws **bench/growth.svg**. POST /v1/gradients on a two-layer MLP w→w→w (sigmoid hidden layer, biases, mse, rows layout, batch b, random float64 values written in full, no learningRate) to the built server (\`node dist/server.js\`, LOG_LEVEL=silent, default pool, BODY_LIMIT=1 GiB and MAX_ELEMENTS=10⁸ so that large points are admitted), one request at a time over loopback, from the first byte sent to the last received, each with a unique query string so that the response cache (src/api/cache.ts) answers none; each point the median of up to 7 requests after one warm-up. FLOPs are the service's own estimate (src/core/cost.ts, what MAX_FLOPS and the pool act on). Points above 2·10⁷ estimated FLOPs run in the worker pool. The HTTP floor is the homework 1 request's median time, one at a time, computed (not from the cache): **${ms(floorMs, 3)} ms**. The sweep took ${ms(sweepSeconds, 0)} s.`,
);
out();
out("![time against FLOPs](../growth.svg)");
out();
out("Median ms per request (rows: width w; columns: batch b; – skipped):");
out();
out(
  table(
    ["w \\ b", ...BATCHES.map(String)],
    WIDTHS.map((w) => [String(w), ...BATCHES.map((b) => (at(w, b) ? ms(at(w, b)?.ms ?? 0, 2) : "–"))]),
  ),
);
out();
out(
  "Time above the floor per estimated GFLOP, ms (the same grid; constant if time is proportional to FLOPs above the floor):",
);
out();
out(
  table(
    ["w \\ b", ...BATCHES.map(String)],
    WIDTHS.map((w) => [
      String(w),
      ...BATCHES.map((b) => {
        const p = at(w, b);
        if (!p) return "–";
        return p.ms < 1.2 * floorMs ? "(floor)" : ms(((p.ms - floorMs) / p.flops) * 1e9, 0);
      }),
    ]),
  ),
);
out();
if (skipped.length > 0) {
  const reasons = new Map<string, string[]>();
  for (const s of skipped) reasons.set(s.why, [...(reasons.get(s.why) ?? []), `${s.w}×${s.b}`]);
  out(`Skipped (w×b): ${[...reasons].map(([why, ws]) => `${ws.join(", ")} (${why})`).join("; ")}.`);
  out();
}
out(
  `**Fit.** Least squares in relative error over all ${points.length} points: t ≈ ${ms(model.a, 3)} ms + FLOPs / ${ms(1 / model.b / 1e6, 1)} GFLOP/s + ${ms(model.c * 1e6, 1)} ms per MB of JSON in and out; median relative error ${(100 * median(relErr)).toFixed(0)}%, worst ${(100 * Math.max(...relErr)).toFixed(0)}%. The FLOPs-only model (floor + FLOPs / ${ms(rate / 1e6, 2)} GFLOP/s, R from the ${heavy.length} points above 10× the floor and 10⁸ FLOPs, the red line) is off by a median ${(100 * median(points.map((p) => Math.abs(flopsOnly(p) - p.ms) / p.ms))).toFixed(0)}% (worst ${(100 * Math.max(...points.map((p) => Math.abs(flopsOnly(p) - p.ms) / p.ms))).toFixed(0)}%). Time is proportional to FLOPs above the floor only where the arithmetic outweighs the JSON: a float64 written in full is about 20 bytes, so each number sent or returned costs about ${ms(model.c * 20 * 1e6, 0)} ns of moving, parsing, validating, copying and printing it, while it takes part in only about 6·b FLOPs; at batch ≤ 16 the curves follow the JSON (w² weights in, w² gradients out), and even at b = 1024 the JSON's share is ${(100 * median(points.filter((p) => p.b === 1024 && p.w >= 128).map((p) => (model.c * json(p)) / p.ms))).toFixed(0)}% of the time (median over w ≥ 128, from the fit).`,
);
out();
out(loadNote(startLoad));
writeSection("growth", lines.join("\n"));
