import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.js";
import { homework1 } from "../support/bodies.js";
import { mulberry32 } from "../support/random.js";

describe("answers to identical requests", () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    app = await buildApp({ responseCacheBytes: 1024 * 1024 });
    await app.ready();
  });
  afterAll(() => app.close());
  const post = (url: string, body: unknown) =>
    supertest(app.server)
      .post(url)
      .send(body as object);

  it("serves the same text again for the same request, marked as a cache hit", async () => {
    const body = { ...homework1, learningRate: 0.1, check: true };
    const first = await post("/v1/gradients", body);
    const second = await post("/v1/gradients", body);
    expect(first.status).toBe(200);
    expect(first.headers["x-cache"]).toBeUndefined();
    expect(second.headers["x-cache"]).toBe("hit");
    expect(second.text).toBe(first.text);
    expect(second.headers["content-type"]).toBe(first.headers["content-type"]);
    expect(second.headers["x-request-id"]).not.toBe(first.headers["x-request-id"]);
  });

  it("does not even parse a body whose answer it keeps", async () => {
    const text = JSON.stringify({ ...homework1, learningRate: 0.4 });
    const parse = vi.spyOn(JSON, "parse");
    try {
      for (let i = 0; i < 3; i++) {
        const res = await supertest(app.server)
          .post("/v1/gradients")
          .set("content-type", "application/json")
          .send(text);
        expect(res.status).toBe(200);
      }
      expect(parse.mock.calls.filter(([arg]) => arg === text)).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });

  it("tells apart requests that differ in the body or the query", async () => {
    const a = await post("/v1/gradients", { ...homework1, learningRate: 0.2 });
    const b = await post("/v1/gradients", { ...homework1, learningRate: 0.3 });
    expect(a.headers["x-cache"]).toBeUndefined();
    expect(b.headers["x-cache"]).toBeUndefined();
    expect(a.body.updatedNetwork).not.toEqual(b.body.updatedNetwork);
    const grade = { problem: homework1, submission: { loss: 3.3 } };
    const json = await post("/v1/grade", grade);
    const gradescope = await post("/v1/grade?format=gradescope", grade);
    expect(json.body.results).toBeDefined();
    expect(gradescope.body.tests).toBeDefined();
  });

  it("never keeps an error", async () => {
    const bad = { ...homework1, target: [[1, 2, 3]] };
    const first = await post("/v1/gradients", bad);
    const second = await post("/v1/gradients", bad);
    expect([first.status, second.status]).toEqual([422, 422]);
    expect(second.headers["x-cache"]).toBeUndefined();
  });

  it("serves pictures again too", async () => {
    const body = { ...homework1, format: "dot" };
    const first = await post("/v1/gradients", body);
    const second = await post("/v1/gradients", body);
    expect(second.headers["x-cache"]).toBe("hit");
    expect(second.headers["content-type"]).toBe(first.headers["content-type"]);
    expect(second.text).toBe(first.text);
  });

  it("serves an answer computed in the worker pool again, byte for byte", async () => {
    const pooled = await buildApp({ responseCacheBytes: 1024 * 1024, pool: { threads: 1, offloadAboveFlops: 0 } });
    await pooled.ready();
    const body = { ...homework1, learningRate: 0.1 };
    const first = await supertest(pooled.server).post("/v1/gradients").send(body);
    const second = await supertest(pooled.server).post("/v1/gradients").send(body);
    await pooled.close();
    const inline = await post("/v1/gradients", body);
    expect(second.headers["x-cache"]).toBe("hit");
    expect(second.text).toBe(first.text);
    expect(first.text).toBe(inline.text);
    expect(second.headers["content-type"]).toBe(inline.headers["content-type"]);
  });

  it("keeps the answer to a body large enough to go to the pool unparsed (over 64 KiB)", async () => {
    const pooled = await buildApp({ pool: { threads: 1 } });
    await pooled.ready();
    const random = mulberry32(3);
    const column = (n: number) => Array.from({ length: n }, () => [random()]);
    // 2000 samples of one feature: ~85 KB of JSON, and its answer (~180 KB) under the 256 KiB a worker streams.
    const body = {
      network: { layout: "rows", layers: [{ weight: [[0.5]] }], loss: "mse" },
      input: column(2000),
      target: column(2000),
    };
    expect(JSON.stringify(body).length).toBeGreaterThan(64 * 1024);
    const first = await supertest(pooled.server).post("/v1/gradients").send(body);
    const second = await supertest(pooled.server).post("/v1/gradients").send(body);
    await pooled.close();
    expect(first.status).toBe(200);
    expect(first.headers["x-cache"]).toBeUndefined();
    expect(second.headers["x-cache"]).toBe("hit");
    expect(second.text).toBe(first.text);
  });

  it("is off with a budget of 0", async () => {
    const off = await buildApp({ responseCacheBytes: 0 });
    await off.ready();
    try {
      await supertest(off.server).post("/v1/gradients").send(homework1);
      const again = await supertest(off.server).post("/v1/gradients").send(homework1);
      expect(again.headers["x-cache"]).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
