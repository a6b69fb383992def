import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import supertest from "supertest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OFFLOAD_DESCRIBED_NODES, OFFLOAD_EXPLAINED_DEPTH, OFFLOAD_STATED } from "../../src/api/budget.js";
import { expressionExamples, gradeExamples } from "../../src/api/examples.js";
import { defaultLimits } from "../../src/api/limits.js";
import { createPool, deadline, defaultPool, POOL_THREAD_NICE, type PoolTask } from "../../src/api/pool.js";
import { buildApp } from "../../src/app.js";
import { useApp } from "../support/app.js";
import { homework1 } from "../support/bodies.js";
import { mulberry32 } from "../support/random.js";
import { threadNice, threadNices } from "../support/threads.js";

const execFileAsync = promisify(execFile);

/** A training request of n×n weights and n samples: 3·2·n³ FLOPs per step for the matrix product alone. */
function heavy(n: number, steps: number) {
  const m = Array.from({ length: n }, () => Array(n).fill(0.01));
  return {
    network: { layers: [{ weight: m }], loss: "mse" },
    input: m,
    target: m,
    steps,
    optimizer: { type: "sgd", lr: 0.001 },
  };
}

describe("heavy requests in the worker pool", () => {
  // The deadline counts from admission, so it covers a worker's start: at nice 10, beside two busy test files on
  // two cores, that start alone took over 400 ms in CI. Only the deadline's own tests (below) keep it short.
  const request = useApp({ pool: { threads: 1, queue: 1, deadlineMs: 30_000, offloadAboveFlops: 1e6 } }).request;
  const shortDeadline = useApp({ pool: { threads: 1, queue: 1, deadlineMs: 400, offloadAboveFlops: 1e6 } }).request;

  it("computes a pooled request exactly as the event loop does", async () => {
    // 3.9 million FLOPs: pooled here (above 1e6).
    const body = heavy(32, 20);
    const inline = await buildApp({ pool: { threads: 0 } });
    await inline.ready();
    const expected = await supertest(inline.server).post("/v1/train").send(body);
    await inline.close();
    const pooled = await request().post("/v1/train").send(body);
    expect(pooled.status).toBe(200);
    expect(pooled.body).toStrictEqual(expected.body);
  });

  it("ends a computation past the deadline with 504, and the pool goes on serving", async () => {
    const res = await shortDeadline().post("/v1/train").send(heavy(64, 10_000));
    expect(res.status).toBe(504);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe("urn:gradserve:problem:deadline-exceeded");
    expect(res.body.detail).toContain("400 ms (COMPUTE_DEADLINE_MS)");
    expect((await shortDeadline().post("/v1/train").send(heavy(16, 2))).status).toBe(200);
  });

  it("refuses work beyond the queue with 503 and Retry-After", async () => {
    // One thread and one place in the queue: of three long tasks sent at once, the third is refused.
    const sent = await Promise.all([1, 2, 3].map(() => shortDeadline().post("/v1/train").send(heavy(64, 10_000))));
    const statuses = sent.map((r) => r.status).sort();
    expect(statuses).toEqual([503, 504, 504]);
    const refused = sent.find((r) => r.status === 503);
    expect(refused?.body.type).toBe("urn:gradserve:problem:queue-full");
    expect(refused?.headers["retry-after"]).toBe("1");
  });

  it.runIf(process.platform === "linux")("runs pooled work at nice 10, below the event loop's 0", async () => {
    // 4 million FLOPs: pooled (above 1e6 here), and not a body answered before (the cache would answer it); the
    // worker then idles for 5 s before it exits.
    expect((await request().post("/v1/train").send(heavy(32, 21))).status).toBe(200);
    expect(POOL_THREAD_NICE).toBe(10);
    expect(threadNices()).toContain(POOL_THREAD_NICE);
    expect(threadNice(process.pid)).toBe(0);
  });

  it.runIf(process.platform === "linux")(
    "never raises a thread's priority: under nice 15 the pool stays at 15",
    async () => {
      // Raising a priority needs privilege; the test runs as root in CI, where it would succeed and show as a 10.
      // Waited for without blocking: a blocked event loop would have this file's app shed the next tests' requests.
      const child = await execFileAsync(
        "nice",
        ["-n", "15", process.execPath, "--import", "tsx", "test/support/pooled-nices.ts"],
        { encoding: "utf8", timeout: 110_000 },
      );
      const { status, nices } = JSON.parse(child.stdout) as { status: number; nices: number[] };
      expect(status).toBe(200);
      expect(nices.length).toBeGreaterThan(2);
      expect(new Set(nices)).toEqual(new Set([15]));
    },
    // A nice-15 process gets a small share of a busy machine: starting it (tsx compiles the sources) took ~20 s
    // beside two busy cores.
    120_000,
  );

  it("keeps small requests on the event loop, where no deadline applies", async () => {
    const res = await request().post("/v1/gradients").send(homework1);
    expect(res.status).toBe(200);
    expect(res.body.loss).toBe(3.3);
  });

  it("returns the errors a pooled task raises as the same problems", async () => {
    // Pooled (3.9 million FLOPs), and diverging: the loss overflows float64 in the worker.
    const body = {
      ...heavy(32, 20),
      target: Array.from({ length: 32 }, () => Array(32).fill(1)),
      optimizer: { type: "sgd", lr: 1e30 },
    };
    const inline = await buildApp({ pool: { threads: 0 } });
    await inline.ready();
    const expected = await supertest(inline.server).post("/v1/train").send(body);
    await inline.close();
    const res = await request().post("/v1/train").send(body);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe("urn:gradserve:problem:non-finite");
    expect(res.body.errors[0].path).toBe("/target");
    expect(res.body).toStrictEqual(expected.body);
  });
});

describe("a worker that fails as it starts", () => {
  it("is reported, and the process goes on: the task ends at its deadline", async () => {
    const failures: Error[] = [];
    const pool = createPool(
      { ...defaultPool, threads: 1, queue: 1, deadlineMs: 500 },
      { limits: defaultLimits, nice: POOL_THREAD_NICE },
      (error) => failures.push(error),
      new URL("../support/failing-worker.mjs", import.meta.url).href,
    );
    const task = { parsed: { route: "gradients", body: homework1 } } as unknown as PoolTask;
    await expect(pool.run(task)).rejects.toMatchObject({ reason: "deadline-exceeded" });
    await pool.close();
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0].message).toBe("this worker fails as it starts");
  });
});

describe("a pooled task's deadline", () => {
  afterEach(() => vi.useRealTimers());

  it("aborts the task's signal when the time is up, as a timeout", () => {
    vi.useFakeTimers();
    const due = deadline(400);
    vi.advanceTimersByTime(399);
    expect(due.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(due.signal.aborted).toBe(true);
    expect((due.signal.reason as Error).name).toBe("TimeoutError");
  });

  it("never aborts once stopped, as the first piece of a streamed answer stops it (pool.ts)", () => {
    vi.useFakeTimers();
    const due = deadline(400);
    vi.advanceTimersByTime(100);
    due.stop();
    vi.advanceTimersByTime(10_000);
    expect(due.signal.aborted).toBe(false);
  });
});

describe("expressions nested to the limit and beyond, answered alike on the event loop and in the pool", () => {
  // A worker thread's stack is four times the event loop's: before MAX_NESTING, 1,200 nested parentheses were
  // refused on one and computed on the other.
  const unparsed = useApp({ pool: { threads: 1, offloadAboveBytes: 0 } }).request;
  const inline = useApp({ pool: { threads: 0 } }).request;
  const nested: [string, (levels: number) => string][] = [
    ["parentheses", (n) => `${"(".repeat(n)}x${")".repeat(n)}`],
    ["calls", (n) => `${"sigmoid(".repeat(n)}x${")".repeat(n)}`],
    ["signs", (n) => `${"-".repeat(n)}x`],
    ["powers", (n) => `${"x^".repeat(n)}x`],
  ];
  const cases: [string, string, number][] = [
    ...nested.flatMap(([what, text]): [string, string, number][] => [
      [`256 levels of ${what}`, text(256), 200],
      [`257 levels of ${what}`, text(257), 422],
    ]),
    ["a sum of 4,999 terms", Array(4999).fill("x").join("+"), 200],
    ["9,999 transposes", `x${"'".repeat(9999)}`, 200],
  ];

  it.each(cases)("%s", async (_, expression, status) => {
    const body = { parameters: { x: 0.5 }, expression };
    const send = (request: ReturnType<typeof inline>) => request.post("/v1/expressions").send(body);
    const [expected, pooled] = [await send(inline()), await send(unparsed())];
    expect(expected.status).toBe(status);
    expect(pooled.status).toBe(status);
    expect(pooled.text).toBe(expected.text);
  });
});

describe("large bodies, parsed and validated in the worker pool", () => {
  // Every compute body counts as large here, so each request below takes the pool's unparsed lane.
  const limits = { expressionLength: 40, trainSteps: 50 };
  const unparsed = useApp({ limits, pool: { threads: 1, offloadAboveBytes: 0 } }).request;
  const inline = useApp({ limits, pool: { threads: 0 } }).request;
  const cases: [string, string, string | object][] = [
    ["the homework", "/v1/gradients", homework1],
    ["an expression", "/v1/expressions", expressionExamples.homework1.value],
    ["a picture", "/v1/gradients?format=dot", homework1],
    ["grading in Gradescope's format", "/v1/grade?format=gradescope", gradeExamples.homework1.value],
    ["training", "/v1/train", { ...heavy(4, 3), steps: 3 }],
    ["malformed JSON", "/v1/gradients", '{\n  "network": {\n    "layers": [}\n}'],
    ["an empty body", "/v1/gradients", "   "],
    ["a body off the schema", "/v1/gradients", { ...homework1, network: { layers: [{ weight: [[1, "x"]] }] } }],
    ["prototype poisoning", "/v1/expressions", '{"__proto__": {"x": 1}, "expression": "1"}'],
    ["a stated size over its limit", "/v1/expressions", { expression: "x".repeat(41), constants: { x: 1 } }],
    ["steps over their limit", "/v1/train", { ...heavy(4, 3), steps: 51 }],
    ["a shape mismatch", "/v1/gradients", { ...homework1, target: [[1, 2, 3]] }],
    ["a non-finite result", "/v1/expressions", { expression: "exp(x)", parameters: { x: 1000 } }],
  ];

  it.each(cases)("answers %s exactly as the event loop does", async (_, url, body) => {
    const send = (request: ReturnType<typeof inline>) =>
      request.post(url).set("content-type", "application/json").send(body);
    const [expected, pooled] = [await send(inline()), await send(unparsed())];
    expect(pooled.status).toBe(expected.status);
    expect(pooled.headers["content-type"]).toBe(expected.headers["content-type"]);
    expect(pooled.text).toBe(expected.text);
  });

  it("streams a large answer in pieces, byte for byte the event loop's answer", async () => {
    const random = mulberry32(7);
    const matrix = (rows: number, cols: number) =>
      Array.from({ length: rows }, () => Array.from({ length: cols }, () => random() - 0.5));
    // About 40 000 numbers each way, a megabyte of answer: several 256 KiB pieces.
    const body = {
      network: { layers: [{ weight: matrix(200, 150), activation: "tanh" }], loss: "mse" },
      input: matrix(150, 60),
      target: matrix(200, 60),
    };
    const send = (request: ReturnType<typeof inline>) => request.post("/v1/gradients").send(body);
    const [expected, pooled] = [await send(inline()), await send(unparsed())];
    expect(expected.status).toBe(200);
    expect(pooled.status).toBe(200);
    expect(pooled.text.length).toBeGreaterThan(1_000_000);
    expect(pooled.text).toBe(expected.text);
    expect(pooled.headers["content-type"]).toBe(expected.headers["content-type"]);
    expect(expected.headers["content-length"]).toBe(String(Buffer.byteLength(expected.text)));
    expect(pooled.headers["transfer-encoding"]).toBe("chunked");
  });

  it("goes on serving when a client leaves in the middle of a streamed answer", async () => {
    const app = await buildApp({ pool: { threads: 1, offloadAboveBytes: 0 } });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    const random = mulberry32(8);
    const matrix = (rows: number, cols: number) =>
      Array.from({ length: rows }, () => Array.from({ length: cols }, () => random() - 0.5));
    const body = JSON.stringify({
      network: { layers: [{ weight: matrix(300, 200) }], loss: "mse" },
      input: matrix(200, 100),
      target: matrix(300, 100),
    });
    const firstChunk = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { port, method: "POST", path: "/v1/gradients", headers: { "content-type": "application/json" } },
        (res) => {
          res.once("data", (chunk: Buffer) => {
            req.destroy();
            resolve(chunk.length);
          });
        },
      );
      req.on("error", (e) => (e.message === "socket hang up" ? undefined : reject(e)));
      req.end(body);
    });
    expect(firstChunk).toBeGreaterThan(0);
    const after = await supertest(app.server).post("/v1/gradients").send(homework1);
    await app.close();
    expect(after.status).toBe(200);
    expect(after.body.loss).toBe(3.3);
  });

  describe("describing a large graph (a picture, DOT text, an explanation) in the pool", () => {
    // The proof of where each ran: a deadline no worker can meet (it has to start first) ends pooled work with 504.
    const request = useApp({ pool: { threads: 1, deadlineMs: 1 } }).request;
    /** A sum of w·x_i: 3 nodes a term (x_i, the product, the sum). */
    const sum = (terms: number, extra: object) => ({
      parameters: { w: 0.5 },
      constants: Object.fromEntries(Array.from({ length: terms }, (_, i) => [`x${i}`, i + 1])),
      expression: Array.from({ length: terms }, (_, i) => `w * x${i}`).join(" + "),
      ...extra,
    });
    const status = async (terms: number, extra: object) =>
      (await request().post("/v1/expressions").send(sum(terms, extra))).status;

    it("an SVG picture of more than 30 nodes", async () => {
      expect(await status(10, { format: "svg" })).toBe(200);
      expect(await status(11, { format: "svg" })).toBe(504);
    });

    it("DOT text of more than 1000 nodes, an explanation of a graph more than 64 ops deep; the plain answer stays", async () => {
      // x with n transposes: n + 1 nodes, n ops deep, in n + 1 characters (compiled on the event loop).
      const transposes = async (n: number, extra: object) =>
        (
          await request()
            .post("/v1/expressions")
            .send({ parameters: { x: 0.5 }, expression: `x${"'".repeat(n)}`, ...extra })
        ).status;
      expect(OFFLOAD_DESCRIBED_NODES.dot).toBe(1000);
      expect(await transposes(999, { format: "dot" })).toBe(200);
      expect(await transposes(1000, { format: "dot" })).toBe(504);
      expect(OFFLOAD_EXPLAINED_DEPTH).toBe(64);
      expect(await transposes(64, { explain: true })).toBe(200);
      expect(await transposes(65, { explain: true })).toBe(504);
      expect(await transposes(1000, {})).toBe(200);
    });
  });

  describe("long expressions and large graphs, sent to the pool by their stated size before any parsing", () => {
    const request = useApp({ pool: { threads: 1, deadlineMs: 1 } }).request;
    /** A sum of exactly `chars` characters: x + x + …, padded with spaces. */
    const sum = (chars: number) =>
      Array(Math.floor((chars + 3) / 4))
        .fill("x")
        .join(" + ")
        .padEnd(chars);
    /** n_1 = w + w, n_i = n_(i-1) + w, sent last node first. */
    const chain = (n: number) => ({
      nodes: Array.from({ length: n }, (_, i) => ({
        id: `n${n - i}`,
        op: "add",
        inputs: [n - i === 1 ? "w" : `n${n - i - 1}`, "w"],
      })),
      output: `n${n}`,
    });

    it.each([
      ["an expression", "expression", 2000, (n: number) => ({ constants: { x: 1 }, expression: sum(n) })],
      ["a graph", "graph nodes", 500, (n: number) => ({ parameters: { w: 1 }, graph: chain(n) })],
    ])("%s: up to OFFLOAD_STATED's %s on the event loop, beyond them in the pool", async (_, what, most, body) => {
      expect(OFFLOAD_STATED).toEqual({ expressionLength: 2000, graphNodes: 500 });
      expect((await request().post("/v1/expressions").send(body(most))).status).toBe(200);
      expect(
        (
          await request()
            .post("/v1/expressions")
            .send(body(most + 1))
        ).status,
        what,
      ).toBe(504);
    });

    it("on every route that compiles one: training and grading", async () => {
      const long = { parameters: { w: 1 }, constants: { x: 1 }, expression: `w * (${sum(1995)})` };
      expect(long.expression).toHaveLength(2001);
      const train = { ...long, steps: 1, optimizer: { type: "sgd", lr: 0.1 } };
      expect((await request().post("/v1/train").send(train)).status).toBe(504);
      const grade = { problem: long, submissions: [{ loss: 1 }] };
      expect((await request().post("/v1/grade").send(grade)).status).toBe(504);
      const short = { ...long, expression: "w * x" };
      expect(
        (
          await request()
            .post("/v1/train")
            .send({ ...train, ...short })
        ).status,
      ).toBe(200);
      expect(
        (
          await request()
            .post("/v1/grade")
            .send({ ...grade, problem: short })
        ).status,
      ).toBe(200);
    });
  });

  describe("many small nodes in the pool, weighed by what they take rather than by their arithmetic", () => {
    // Bodies up to 1 MiB parsed on the event loop, so that the work estimate alone decides.
    const request = useApp({ pool: { threads: 1, deadlineMs: 1, offloadAboveBytes: 1024 * 1024 } }).request;
    // (w·x - y)²: 3 scalar ops and a few operations each, ~0.3 µs apiece per pass on the event loop.
    const training = (steps: number) => ({
      parameters: { w: 0.5 },
      constants: { x: 2, y: 3 },
      expression: "(w * x - y) ^ 2",
      steps,
      optimizer: { type: "sgd", lr: 0.01 },
    });

    it("a scalar expression trained for 10 000 steps runs in the pool; for 100 steps, on the event loop", async () => {
      expect((await request().post("/v1/train").send(training(100))).status).toBe(200);
      expect((await request().post("/v1/train").send(training(10_000))).status).toBe(504);
    });
  });

  it("draws a pooled SVG picture byte for byte as the event loop draws it", async () => {
    const body = {
      parameters: { w: 0.5 },
      constants: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x${i}`, i + 1])),
      expression: Array.from({ length: 12 }, (_, i) => `w * x${i}`).join(" + "),
      format: "svg",
    };
    const svgOf = async (threads: number) => {
      const app = await buildApp({ pool: { threads } });
      await app.ready();
      const res = await app.inject({ method: "POST", url: "/v1/expressions", payload: body });
      await app.close();
      expect(res.statusCode).toBe(200);
      return res.payload;
    };
    const pooled = await svgOf(1);
    expect(pooled.startsWith("<?xml")).toBe(true);
    expect(pooled).toBe(await svgOf(0));
  });

  it("sends a large body to the pool however cheap it is", async () => {
    // The proof that the lane is taken: a deadline no worker can meet (it has to start first) ends it with 504.
    const app = await buildApp({ pool: { threads: 1, offloadAboveBytes: 1000, deadlineMs: 1 } });
    await app.ready();
    const small = await supertest(app.server).post("/v1/gradients").send(homework1);
    const padded = await supertest(app.server)
      .post("/v1/gradients")
      .set("content-type", "application/json")
      .send(`${JSON.stringify(homework1)}${" ".repeat(1000)}`);
    await app.close();
    expect(small.status).toBe(200);
    expect(padded.status).toBe(504);
  });
});

describe("size and cost limits, checked before any arithmetic", () => {
  const request = useApp({ limits: { elements: 100, matrixDim: 8, flops: 1e6 }, pool: { threads: 0 } }).request;

  it("rejects a request holding more numbers than MAX_ELEMENTS", async () => {
    const res = await request()
      .post("/v1/gradients")
      .send({
        network: { layers: [{ weight: Array.from({ length: 8 }, () => Array(8).fill(1)) }], loss: "sse" },
        input: Array.from({ length: 8 }, () => Array(8).fill(1)),
        target: Array.from({ length: 8 }, () => Array(8).fill(1)),
      });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe("urn:gradserve:problem:limit-exceeded");
    // 64 + 64 + 64 numbers.
    expect(res.body.detail).toBe("the request holds 192 numbers, over the limit of 100 (MAX_ELEMENTS)");
  });

  it("rejects a value wider than MAX_MATRIX_DIM, pointing at it", async () => {
    const res = await request()
      .post("/v1/expressions")
      .send({ parameters: { w: [Array(9).fill(1)] }, expression: "sum(w)" });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({
      path: "/parameters/w",
      message: expect.stringContaining("1×9, over the limit of 8"),
    });
  });

  it("rejects training whose estimated cost is over MAX_FLOPS, naming both", async () => {
    // 3×3 weights: each step is far below 1e6 FLOPs, but 100000 steps are not.
    const m = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const body = { network: { layers: [{ weight: m }], loss: "sse" }, input: m, target: m, optimizer: { type: "sgd" } };
    expect(
      (
        await request()
          .post("/v1/train")
          .send({ ...body, steps: 10 })
      ).status,
    ).toBe(200);
    const res = await request()
      .post("/v1/train")
      .send({ ...body, steps: 10_000 });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(
      /^the computation is estimated at [\d.e+]+ floating-point operations, over the limit of 1\.00e\+6 \(MAX_FLOPS\)$/,
    );
  });
});
