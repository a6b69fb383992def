import { once } from "node:events";
import { Writable } from "node:stream";
import supertest from "supertest";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { useApp } from "../support/app.js";
import { homework1 } from "../support/bodies.js";
import { startServer } from "../support/server.js";

describe("API keys", () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const api = useApp({
    protection: { apiKeys: ["key-for-graders", "second-key"] },
    logger: { level: "info", stream, redact: ["req.headers.authorization"] },
  });

  it("turns away a request without a key with 401 problem+json and a Bearer challenge", async () => {
    const res = await api.request().post("/v1/gradients").send(homework1);
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="gradserve"');
    expect(res.body.type).toBe("urn:gradserve:problem:unauthorized");
    expect(res.body.detail).toContain("Authorization: Bearer <key>");
  });

  it("turns away a wrong key", async () => {
    for (const header of [
      "Bearer key-for-grader",
      "Bearer key-for-graders-2",
      "Basic key-for-graders",
      "key-for-graders",
    ]) {
      const res = await api.request().post("/v1/gradients").set("authorization", header).send(homework1);
      expect(res.status, header).toBe(401);
    }
  });

  it("lets any configured key in", async () => {
    for (const key of ["key-for-graders", "second-key"]) {
      const res = await api.request().post("/v1/gradients").set("authorization", `Bearer ${key}`).send(homework1);
      expect(res.status).toBe(200);
      expect(res.body.loss).toBe(3.3);
    }
  });

  it("keeps health checks and documentation open", async () => {
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/docs/"]) {
      expect((await api.request().get(path)).status, path).toBe(200);
    }
  });

  it("never writes a key to the logs", () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain("key-for-graders");
    expect(lines.join("")).not.toContain("second-key");
  });
});

describe("rate limiting", () => {
  const api = useApp({ protection: { rateLimit: { max: 2, windowMs: 60_000 } } });

  it("answers 429 with Retry-After once a client has used its requests", async () => {
    const statuses: number[] = [];
    let last: supertest.Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await api.request().post("/v1/gradients").set("authorization", "Bearer client-a").send(homework1);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last?.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(last?.body.type).toBe("urn:gradserve:problem:rate-limited");
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("behind a trusted proxy, counts each forwarded client separately", async () => {
    const app = await buildApp({ protection: { rateLimit: { max: 1, windowMs: 60_000 } }, trustProxy: true });
    await app.ready();
    try {
      const from = (client: string) =>
        supertest(app.server).post("/v1/gradients").set("x-forwarded-for", client).send(homework1);
      expect((await from("203.0.113.1")).status).toBe(200);
      expect((await from("203.0.113.2")).status).toBe(200);
      expect((await from("203.0.113.1")).status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it("counts each API key separately, and never limits health checks", async () => {
    const other = await api.request().post("/v1/gradients").set("authorization", "Bearer client-b").send(homework1);
    expect(other.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await api.request().get("/healthz")).status).toBe(200);
  });
});

describe("security headers and CORS", () => {
  const closed = useApp({});
  const open = useApp({ protection: { corsOrigins: ["https://course.example"] } });
  const behindProxy = useApp({ trustProxy: true });

  it("sends headers suited to an API", async () => {
    const res = await closed.request().post("/v1/gradients").send(homework1);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    // Plain HTTP: RFC 6797 forbids HSTS here.
    expect(res.headers["strict-transport-security"]).toBeUndefined();
    // Headers that only act on HTML documents are left to the documentation's pages.
    expect(res.headers["cross-origin-opener-policy"]).toBeUndefined();
    expect(res.headers["referrer-policy"]).toBeUndefined();
    expect(res.headers["cross-origin-resource-policy"]).toBeUndefined();
  });

  it("sends HSTS only over HTTPS, which a trusted proxy vouches for", async () => {
    for (const res of [
      await behindProxy.request().post("/v1/gradients").set("x-forwarded-proto", "https").send(homework1),
      await behindProxy.request().get("/docs/").set("x-forwarded-proto", "https"),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    }
    expect((await behindProxy.request().get("/healthz")).headers["strict-transport-security"]).toBeUndefined();
    // Without TRUST_PROXY, anyone could claim HTTPS.
    const claimed = await closed.request().get("/healthz").set("x-forwarded-proto", "https");
    expect(claimed.headers["strict-transport-security"]).toBeUndefined();
  });

  it("lets Swagger UI load its own scripts and styles", async () => {
    const res = await closed.request().get("/docs/");
    expect(res.status).toBe(200);
    const csp = res.headers["content-security-policy"];
    expect(csp).toMatch(/script-src[^;]*'self'/);
    expect(csp).toMatch(/style-src[^;]*'self'/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin");
    expect(res.headers["x-dns-prefetch-control"]).toBe("off");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["cross-origin-resource-policy"]).toBe("same-origin");
  });

  it("has CORS off by default", async () => {
    const res = await closed
      .request()
      .options("/v1/gradients")
      .set("origin", "https://course.example")
      .set("access-control-request-method", "POST");
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("allows the configured origins, and only those", async () => {
    const allowed = await open
      .request()
      .options("/v1/gradients")
      .set("origin", "https://course.example")
      .set("access-control-request-method", "POST");
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://course.example");
    const other = await open
      .request()
      .options("/v1/gradients")
      .set("origin", "https://evil.example")
      .set("access-control-request-method", "POST");
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("readiness and load shedding", () => {
  const api = useApp({ protection: { maxEventLoopDelayMs: 50, loadSampleIntervalMs: 100 } });

  it("is ready until it starts draining; then readiness fails and responses close their connections", async () => {
    expect((await api.request().get("/readyz")).body).toEqual({ status: "ready" });
    api.app.lifecycle.draining = true;
    try {
      const ready = await api.request().get("/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.type).toBe("urn:gradserve:problem:shutting-down");
      // A request that reached the server before it closed is still served, on a connection that then closes.
      const work = await api.request().post("/v1/gradients").send(homework1);
      expect(work.status).toBe(200);
      expect(work.headers.connection).toBe("close");
      expect((await api.request().get("/healthz")).status).toBe(200);
    } finally {
      api.app.lifecycle.draining = false;
    }
  });

  it("sheds API requests with 503 and Retry-After while the event loop lags, but still answers /healthz", async () => {
    // The delay is the mean over a 100 ms sampling interval. Blocking for 150 ms out of every 160 keeps every
    // sample's mean far above the 50 ms threshold for as long as the request takes to arrive, however loaded
    // the machine (one block followed by a request was flaky: a request slower than one interval met a fresh
    // sample).
    const busy = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // lagging on purpose
      }
    };
    busy(200);
    const lag = setInterval(() => busy(150), 160);
    try {
      const shed = await api.request().post("/v1/gradients").send(homework1);
      expect(shed.status).toBe(503);
      expect(shed.headers["retry-after"]).toBe("1");
      expect(shed.body.type).toBe("urn:gradserve:problem:overloaded");
      expect((await api.request().get("/healthz")).status).toBe(200);
    } finally {
      clearInterval(lag);
    }
  });
});

describe("graceful shutdown", () => {
  it("finishes every request in flight on SIGTERM, then exits 0", async () => {
    // At debug level the server logs each request as it arrives: how this test knows all six are in flight.
    const server = await startServer({ LOG_LEVEL: "debug" });
    // Training requests that take a noticeable time, all in flight when the signal arrives.
    const slow = {
      network: { layers: [{ weight: Array.from({ length: 64 }, () => Array(64).fill(0.01)) }], loss: "mse" },
      input: Array.from({ length: 64 }, () => Array(64).fill(1)),
      target: Array.from({ length: 64 }, () => Array(64).fill(0)),
      steps: 300,
      optimizer: { type: "sgd", lr: 0.001 },
    };
    const inFlight = Array.from({ length: 6 }, () =>
      fetch(`${server.origin}/v1/train`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(slow),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { losses: number[] } })),
    );
    // In flight means received: wait until the server has logged the arrival of all six (on a loaded machine
    // the client may take a while to send them), then signal.
    const received = () => (server.output().match(/"url":"\/v1\/train"/g) ?? []).length;
    for (let waited = 0; received() < 6 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(received()).toBe(6);
    const started = Date.now();
    server.process.kill("SIGTERM");
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const r of results) expect(r.body.losses).toHaveLength(300);
    const [code] = await once(server.process, "exit");
    expect(code, server.output()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.output()).toContain("shutting down");
    await expect(fetch(`${server.origin}/healthz`)).rejects.toThrow();
  });
});
