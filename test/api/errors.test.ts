import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PROBLEM_ERRORS } from "../../src/api/problems.js";
import { buildApp } from "../../src/app.js";
import { useApp } from "../support/app.js";
import { homework1 } from "../support/bodies.js";

/** A body with one field replaced, for one error at a time. */
function withNetwork(network: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return { ...homework1, network: { ...homework1.network, ...network }, ...rest };
}

function expectProblem(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }) {
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: res.status, type: expect.stringMatching(/^urn:gradserve:problem:/) });
  expect(typeof res.body.title).toBe("string");
  expect(typeof res.body.detail).toBe("string");
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return res.body as { type: string; detail: string; errors: { path?: string; message: string; line?: number }[] };
}

describe("request errors on POST /v1/gradients", () => {
  const api = useApp();
  const inline = useApp({ pool: { threads: 0 } });
  const post = (body: unknown) => api.post("/v1/gradients", body);

  describe("400: the body does not match the schema", () => {
    it(`lists the first ${MAX_PROBLEM_ERRORS} errors of a matrix of wrong entries and counts the rest`, async () => {
      const input = Array.from({ length: 250 }, () => Array(250).fill("x"));
      const res = await post(withNetwork({ layers: [{ weight: [[1]] }] }, { input, target: [[1]] }));
      expect(res.status).toBe(400);
      const body = expectProblem(res);
      expect(body.detail).toBe(
        `Invalid body at /input/0/0: expected a finite number (and ${250 * 250 - 1} more); the first ${MAX_PROBLEM_ERRORS} are listed`,
      );
      expect(body.errors).toHaveLength(MAX_PROBLEM_ERRORS);
      expect(body.errors[MAX_PROBLEM_ERRORS - 1]).toEqual({ path: "/input/0/99", message: "expected a finite number" });
      expect(res.text.length).toBeLessThan(20_000);
    });

    // zod passes an array's issues up in one spread call, which overflowed the stack (a 500 before validation.ts
    // caught it): on the event loop past about 120,000 wrong entries in one array, in a pool worker about four
    // times as many. This body is parsed in the pool (it is over 64 KiB), and on the event loop without one.
    it.each([
      ["in the pool", (url: string, body: unknown) => api.post(url, body)],
      ["on the event loop", (url: string, body: unknown) => inline.post(url, body)],
    ])("describes a body with more wrong entries than zod can collect by its first (%s)", async (_, send) => {
      const input = [Array(600_000).fill("x")];
      const res = await send("/v1/gradients", withNetwork({ layers: [{ weight: [[1]] }] }, { input, target: [["y"]] }));
      expect(res.status).toBe(400);
      const body = expectProblem(res);
      expect(body.detail).toBe(
        "Invalid body at /input/0/0: expected a finite number (and more wrong values than can be counted: only the first is listed)",
      );
      expect(body.errors).toEqual([{ path: "/input/0/0", message: "expected a finite number" }]);
    });

    it("names an unknown activation and lists the valid ones", async () => {
      const res = await post(withNetwork({ layers: [{ weight: 1, activation: "sigmoidd" }] }, { input: 1, target: 1 }));
      expect(res.status).toBe(400);
      const body = expectProblem(res);
      expect(body.errors).toEqual([
        {
          path: "/network/layers/0/activation",
          message: expect.stringContaining('unknown activation "sigmoidd"; valid: identity, sigmoid, tanh, relu'),
        },
      ]);
    });

    it("names an unknown loss and lists the valid ones", async () => {
      const res = await post(withNetwork({ loss: { type: "hinge" } }));
      expect(res.status).toBe(400);
      expect(expectProblem(res).errors).toEqual([
        {
          path: "/network/loss/type",
          message: expect.stringContaining("valid: sse, l2, mse, bce, bce_with_logits, cross_entropy"),
        },
      ]);
    });

    it("points at the short row of a ragged matrix", async () => {
      const res = await post({ ...homework1, input: [[0, 2], [3]] });
      expect(res.status).toBe(400);
      expect(expectProblem(res).errors).toEqual([
        { path: "/input/1", message: "row 2 has 1 entry but row 1 has 2: every row of a matrix needs the same length" },
      ]);
    });

    it("points at a string where a number goes", async () => {
      const res = await post(
        withNetwork({
          layers: [
            {
              weight: [
                [0.3, "0.5"],
                [-0.2, 0.4],
              ],
            },
          ],
        }),
      );
      expect(res.status).toBe(400);
      expect(expectProblem(res).errors).toEqual([
        { path: "/network/layers/0/weight/0/1", message: "expected a finite number" },
      ]);
    });

    it("rejects empty matrices and rows", async () => {
      for (const input of [[], [[]]]) {
        const res = await post({ ...homework1, input });
        expect(res.status).toBe(400);
        expect(expectProblem(res).errors[0].path).toMatch(/^\/input/);
      }
    });

    it("rejects a missing field and an unknown field by name", async () => {
      const missing = await post({ network: homework1.network, input: homework1.input });
      expect(missing.status).toBe(400);
      expect(expectProblem(missing).errors[0].path).toBe("/target");
      const unknown = await post({ ...homework1, learning_rate: 0.1 });
      expect(unknown.status).toBe(400);
      expect(expectProblem(unknown).errors[0].message).toContain("learning_rate");
    });

    it("rejects a numeric overflow in the JSON itself (1e999 parses as Infinity)", async () => {
      const res = await api
        .request()
        .post("/v1/gradients")
        .set("content-type", "application/json")
        .send(JSON.stringify(homework1).replace("0.3", "1e999"));
      expect(res.status).toBe(400);
      expect(expectProblem(res).errors[0]).toEqual({
        path: "/network/layers/0/weight/0/0",
        message: "expected a finite number",
      });
    });

    it("rejects duplicate layer names", async () => {
      const res = await post(
        withNetwork({
          layers: [
            {
              name: "h",
              weight: [
                [1, 0],
                [0, 1],
              ],
            },
            {
              name: "h",
              weight: [
                [1, 0],
                [0, 1],
              ],
            },
          ],
        }),
      );
      expect(res.status).toBe(400);
      expect(expectProblem(res).errors[0]).toEqual({
        path: "/network/layers/1/name",
        message: 'the name "h" is already used by layer 1; layer names must be unique',
      });
    });

    it("reports malformed JSON with the line and column", async () => {
      const res = await api
        .request()
        .post("/v1/gradients")
        .set("content-type", "application/json")
        .send('{\n  "network": {,\n}');
      expect(res.status).toBe(400);
      const body = expectProblem(res);
      expect(body.type).toBe("urn:gradserve:problem:malformed-json");
      expect(body.errors[0]).toMatchObject({ line: 2, column: 15 });
    });

    it("rejects an empty body and prototype-poisoning keys", async () => {
      const empty = await api.request().post("/v1/gradients").set("content-type", "application/json").send("");
      expect(empty.status).toBe(400);
      expectProblem(empty);
      const poisoned = await api
        .request()
        .post("/v1/gradients")
        .set("content-type", "application/json")
        .send('{"__proto__": {"polluted": true}, "network": {}}');
      expect(poisoned.status).toBe(400);
      expectProblem(poisoned);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ["an escaped __proto__", '{"\\u005f_proto__": {"polluted": true}, "network": {}}'],
      ["an escaped constructor.prototype", '{"constructo\\u0072": {"prototype": {"polluted": true}}}'],
    ])("rejects %s as malformed", async (_, text) => {
      const res = await api.request().post("/v1/gradients").set("content-type", "application/json").send(text);
      expect(res.status).toBe(400);
      expect(expectProblem(res).type).toBe("urn:gradserve:problem:malformed-json");
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it("reads a body that starts with a byte order mark", async () => {
      const res = await api
        .request()
        .post("/v1/expressions")
        .set("content-type", "application/json")
        .send(`\ufeff${JSON.stringify({ parameters: { a: 2 }, expression: "a*a" })}`);
      expect(res.status).toBe(200);
      expect(res.body.output).toBe(4);
    });
  });

  describe("422: valid JSON that cannot be computed", () => {
    it("names the layer and both shapes when a weight does not fit its input", async () => {
      const res = await post({
        network: {
          layers: [
            {
              weight: [
                [1, 0],
                [0, 1],
                [1, 1],
                [2, 2],
                [3, 3],
              ],
            },
            {
              weight: [
                [1, 2, 3, 4],
                [5, 6, 7, 8],
                [9, 10, 11, 12],
              ],
            },
          ],
          loss: "sse",
        },
        input: [
          [1, 2],
          [3, 4],
        ],
        target: [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      });
      expect(res.status).toBe(422);
      const body = expectProblem(res);
      expect(body.type).toBe("urn:gradserve:problem:shape-mismatch");
      expect(body.errors).toEqual([
        {
          path: "/network/layers/1/weight",
          message: expect.stringMatching(
            /^layer2: weight is 3×4 but its input \(the output of layer1, 5×2\) has 5 rows/,
          ),
        },
      ]);
    });

    it("says the rows layout wants inputs×outputs", async () => {
      const res = await post(withNetwork({ layout: "rows", layers: [{ weight: [[1, 2, 3]] }] }));
      expect(res.status).toBe(422);
      expect(expectProblem(res).errors[0].message).toContain(
        "has 2 columns; in the rows layout the weight must be 2×outputs",
      );
    });

    it("names a bias of the wrong length", async () => {
      const res = await post(
        withNetwork({
          layers: [
            {
              weight: [
                [0.3, 0.5],
                [-0.2, 0.4],
              ],
              bias: [1, 2, 3],
            },
          ],
        }),
      );
      expect(res.status).toBe(422);
      expect(expectProblem(res).errors[0]).toEqual({
        path: "/network/layers/0/bias",
        message: "layer1: bias is 3×1 but the layer has 2 outputs, so it must be 2 numbers (2×1)",
      });
    });

    it("names a target that does not match the output", async () => {
      const res = await post({ ...homework1, target: [[1, 2, 3]] });
      expect(res.status).toBe(422);
      expect(expectProblem(res).errors[0]).toMatchObject({ path: "/target", message: expect.stringContaining("1×3") });
    });

    it("rejects a class index out of range", async () => {
      const res = await post(withNetwork({ loss: "cross_entropy" }, { target: [0, 2] }));
      expect(res.status).toBe(422);
      const body = expectProblem(res);
      expect(body.type).toBe("urn:gradserve:problem:domain-error");
      expect(body.errors[0].message).toContain("class index 2 is 2, but the logits have 2 classes");
    });

    it("rejects bce on values that are not probabilities and suggests bce_with_logits", async () => {
      const res = await post(
        withNetwork(
          { loss: "bce" },
          {
            target: [
              [0, 1],
              [1, 0],
            ],
          },
        ),
      );
      expect(res.status).toBe(422);
      expect(expectProblem(res).errors[0].message).toMatch(/bce expects probabilities in \[0, 1\].*bce_with_logits/);
    });

    it("reports an overflow as non-finite, naming where it arose, never as null", async () => {
      const res = await post(
        withNetwork(
          {
            layers: [
              {
                weight: [
                  [1e300, 1e300],
                  [1, 1],
                ],
              },
            ],
          },
          {
            input: [
              [1e10, 1],
              [1, 1],
            ],
          },
        ),
      );
      expect(res.status).toBe(422);
      const body = expectProblem(res);
      expect(body.type).toBe("urn:gradserve:problem:non-finite");
      expect(body.errors[0]).toMatchObject({
        path: "/network/layers/0/weight",
        message: expect.stringContaining("layer1"),
      });
      expect(body.detail).toContain("Infinity");
    });
  });

  describe("routing and transport", () => {
    it("answers an unknown route with a 404 problem", async () => {
      const res = await api.request().get("/v1/nothing");
      expect(res.status).toBe(404);
      expectProblem(res);
    });

    it("answers a body that is not JSON with 415", async () => {
      const res = await api.request().post("/v1/gradients").set("content-type", "text/csv").send("1,2");
      expect(res.status).toBe(415);
      expectProblem(res);
    });
  });
});

describe("the body size limit", () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    app = await buildApp({ bodyLimit: 200 });
    await app.ready();
  });
  afterAll(() => app.close());

  it("answers 413 with the configured limit", async () => {
    const res = await supertest(app.server)
      .post("/v1/gradients")
      .send({ ...homework1, input: Array.from({ length: 50 }, () => [1, 2]) });
    expect(res.status).toBe(413);
    expect(expectProblem(res).detail).toContain("200 bytes");
  });
});
