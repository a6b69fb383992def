import { Writable } from "node:stream";
import supertest from "supertest";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";

describe("request ids and logs", () => {
  it("echoes the client's x-request-id and logs JSON lines carrying it", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = await buildApp({ logger: { level: "info", stream } });
    await app.ready();
    const res = await supertest(app.server).get("/healthz").set("x-request-id", "grader-42");
    await app.close();
    expect(res.headers["x-request-id"]).toBe("grader-42");
    // One line per request, carrying the request, its status and its time.
    const mine = lines.filter((l) => l.reqId === "grader-42");
    expect(mine.map((l) => l.msg)).toEqual(["request completed"]);
    expect(mine[0]).toMatchObject({ req: { method: "GET", url: "/healthz" }, res: { statusCode: 200 } });
    expect(typeof mine[0].responseTime).toBe("number");
  });

  it("gives each request a fresh id when the client sends none", async () => {
    const app = await buildApp();
    await app.ready();
    const [a, b] = await Promise.all([supertest(app.server).get("/healthz"), supertest(app.server).get("/healthz")]);
    await app.close();
    expect(a.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers["x-request-id"]).not.toBe(b.headers["x-request-id"]);
  });
});
