import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import {
  defaultFuzzOptions,
  type FuzzOptions,
  type FuzzRequest,
  fuzzRequests,
  type Kind,
  kinds,
  poisonEntries,
  Raw,
  toText,
} from "../fuzz/generators.js";
import { type Sent, send, violations } from "../fuzz/oracle.js";

/**
 * Property-based fuzzing of the HTTP layer: hostile bodies for the five POST routes, sent over a real socket.
 * Every answer must be a 4xx application/problem+json (type, title, status, detail; schema errors point into
 * the request) or a 200 that matches the route's response schema (so no null or NaN where a number goes);
 * never a 5xx, never a hang, and the server keeps answering. `npm run fuzz` runs the same generators against
 * a live server for longer.
 */

const SEED = 20_260_607;
const TIMEOUT_MS = 10_000;

/** The configured expression limit of the app under test: lower than the default, to keep long expressions cheap. */
const EXPRESSION_LIMIT = 2_000;

const options: FuzzOptions = {
  ...defaultFuzzOptions,
  maxHugeNumbers: 100_000,
  // Deep enough to exercise every walk; values 10000 and 100000 levels deep are sent by the tests below.
  maxDepth: 2_000,
  expressionLimit: EXPRESSION_LIMIT,
  maxSteps: 20,
  slashInKeys: true,
  routerEdgeCases: true,
};

/** Object.prototype and friends as they were, to see that no request added anything to them. */
const prototypes = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };
const snapshot = () =>
  Object.fromEntries(Object.entries(prototypes).map(([name, p]) => [name, Reflect.ownKeys(p).map(String).sort()]));
const before = snapshot();

function expectUnpolluted() {
  expect(snapshot()).toEqual(before);
  const probe = {} as Record<string, unknown>;
  for (const key of ["polluted", "isAdmin", "x"]) {
    expect(probe[key]).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>)[key]).toBeUndefined();
  }
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

describe("fuzzing the HTTP layer", () => {
  let app: FastifyInstance;
  let origin: string;
  const seen = new Map<Kind, Map<string, number>>();

  beforeAll(async () => {
    // Load shedding is a designed 503; it is off here so that every answer comes from the routes.
    app = await buildApp({
      protection: { maxEventLoopDelayMs: 0 },
      limits: { expressionLength: EXPRESSION_LIMIT },
    });
    origin = await app.listen({ port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await app?.close();
  });

  const describeRequest = (req: FuzzRequest) =>
    `${req.kind} POST ${req.path} (${req.contentType}) ${req.body.length} bytes: ${req.body.slice(0, 300)}`;

  async function sendAndCheck(req: FuzzRequest): Promise<Sent> {
    const sent = await send(origin, req, TIMEOUT_MS);
    const status = "failure" in sent ? sent.failure : String(sent.status);
    const counts = seen.get(req.kind) ?? new Map<string, number>();
    counts.set(status, (counts.get(status) ?? 0) + 1);
    seen.set(req.kind, counts);
    const wrong = violations(req, sent);
    if (wrong.length > 0) throw new Error(`${wrong.join("\n")}\nfor ${describeRequest(req)}`);
    return sent;
  }

  const groups: [string, Kind[], number][] = [
    ["malformed JSON and content types", ["malformed-json", "content-type"], 150],
    [
      "wrong types, special numbers, ragged and empty matrices, unknown fields",
      ["wrong-type", "special-number", "string-number", "ragged-matrix", "empty-matrix", "unknown-field"],
      300,
    ],
    ["well-formed problems and mismatched shapes", ["valid", "shape-mismatch"], 200],
    ["long expressions, unknown ops and cyclic graphs", ["long-expression", "unknown-op", "graph-cycle"], 150],
    ["deeply nested and huge values", ["deep-nesting", "huge-array"], 50],
    ["prototype keys and random function names", ["proto-key", "random-name"], 100],
  ];

  it.each(groups)(
    "%s: a 4xx problem or a well-formed 200, never a 5xx or a hang",
    async (_name, only, numRuns) => {
      await fc.assert(
        fc.asyncProperty(fuzzRequests(options, only), async (req) => {
          await sendAndCheck(req);
        }),
        { seed: SEED, numRuns, endOnFailure: true },
      );
    },
    60_000,
  );

  it("sends 100000-deep arrays and objects into fields of every route without a 5xx", async () => {
    const depth = 100_000;
    const deep = [
      new Raw(`${"[".repeat(depth)}1${"]".repeat(depth)}`),
      new Raw(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
    ];
    const bodies: [string, (v: Raw) => Record<string, unknown>][] = [
      ["/v1/gradients", (v) => ({ network: { layers: [{ weight: v }], loss: "sse" }, input: 1, target: 1 })],
      ["/v1/gradients", (v) => ({ network: v, input: v, target: v })],
      ["/v1/expressions", (v) => ({ parameters: { a: v }, expression: "a" })],
      [
        "/v1/expressions",
        (v) => ({ parameters: { a: 1 }, graph: { nodes: [{ id: "n", op: "neg", inputs: v }], output: "n" } }),
      ],
      ["/v1/train", (v) => ({ parameters: { a: 1 }, expression: "a*a", steps: 1, optimizer: v })],
      [
        "/v1/train",
        (v) => ({ parameters: { a: 1 }, expression: "a*a", steps: 1, optimizer: { type: "sgd" }, state: v }),
      ],
      ["/v1/grade", (v) => ({ problem: v, submission: { loss: 1 } })],
      ["/v1/grade", (v) => ({ problem: { parameters: { a: 1 }, expression: "a" }, submission: { loss: 1 }, items: v })],
      ["/v1/functions/sigmoid/evaluate", (v) => ({ points: v })],
      ["/v1/functions/sigmoid/evaluate", (v) => ({ points: [1], attributes: { slope: v } })],
    ];
    for (const [path, body] of bodies) {
      for (const v of deep) {
        const route = path.startsWith("/v1/functions") ? "evaluate" : (path.slice(4) as FuzzRequest["route"]);
        await sendAndCheck({
          kind: "deep-nesting",
          route,
          path,
          body: toText(body(v) as never),
          contentType: "application/json",
        });
      }
    }
  });

  it("rejects __proto__ and constructor.prototype keys at any depth on every route and pollutes nothing", async () => {
    const problem = { network: { layers: [{ weight: 1 }], loss: "sse" }, input: 1, target: 2 };
    // Each body is a function of one object into which a poisoned entry is spliced as raw JSON text.
    const poisoned = (entry: readonly [string, unknown]) => `${JSON.stringify(entry[0])}:${toText(entry[1] as never)}`;
    const places: [string, (p: string) => string][] = [
      ["/v1/gradients", (p) => `{${p},"network":{"layers":[{"weight":1}],"loss":"sse"},"input":1,"target":2}`],
      ["/v1/gradients", (p) => `{"network":{"layers":[{${p},"weight":1}],"loss":"sse"},"input":1,"target":2}`],
      ["/v1/gradients", (p) => `{"network":{"layers":[{"weight":1}],"loss":{${p},"type":"sse"}},"input":1,"target":2}`],
      ["/v1/expressions", (p) => `{"parameters":{${p},"a":1},"expression":"a"}`],
      [
        "/v1/expressions",
        (p) => `{"parameters":{"a":1},"graph":{"nodes":[{${p},"id":"n","op":"neg","inputs":["a"]}],"output":"n"}}`,
      ],
      ["/v1/train", (p) => `{"parameters":{"a":1},"expression":"a*a","steps":1,"optimizer":{${p},"type":"sgd"}}`],
      [
        "/v1/train",
        (p) =>
          `{"parameters":{"a":1},"expression":"a*a","steps":1,"optimizer":{"type":"sgd"},"state":{"type":"sgd","step":0,"buffers":{${p}}}}`,
      ],
      ["/v1/grade", (p) => `{"problem":${JSON.stringify(problem)},"submission":{${p},"loss":1}}`],
      ["/v1/grade", (p) => `{"problem":${JSON.stringify(problem)},"submission":{"a":[{"b":{${p}}}]}}`],
      ["/v1/grade", (p) => `{"problem":${JSON.stringify(problem)},"submissions":[{"loss":1},{${p}}]}`],
      ["/v1/functions/leaky_relu/evaluate", (p) => `{"points":[1],"attributes":{${p}}}`],
      ["/v1/functions/leaky_relu/evaluate", (p) => `{${p},"points":[1]}`],
    ];
    for (const [path, body] of places) {
      for (const entry of poisonEntries) {
        const req: FuzzRequest = {
          kind: "proto-key",
          route: path.startsWith("/v1/functions") ? "evaluate" : (path.slice(4) as FuzzRequest["route"]),
          path,
          body: body(poisoned(entry)),
          contentType: "application/json",
        };
        const sent = await sendAndCheck(req);
        // The parser refuses both forms of prototype poisoning outright.
        if (entry[0] === "__proto__" || (entry[0] === "constructor" && toText(entry[1]).includes("prototype"))) {
          expect("status" in sent && sent.status, describeRequest(req)).toBe(400);
          expect("text" in sent && JSON.parse(sent.text).type, describeRequest(req)).toBe(
            "urn:gradserve:problem:malformed-json",
          );
        }
      }
    }
    expectUnpolluted();
  });

  it("takes names that are Object.prototype's keys without a 5xx or pollution", async () => {
    const protoNames = [
      "constructor",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "__proto__",
      "prototype",
      "__defineGetter__",
    ];
    const requests: FuzzRequest[] = protoNames.flatMap((name) => {
      const layers = {
        network: { layers: [{ name, weight: 1 }], loss: "sse" },
        input: 1,
        target: 2,
        learningRate: 0.1,
      };
      const expression = { parameters: { a: 1 }, expression: `${name} = a * 2\n${name} + a` };
      const graph = { parameters: { a: 1 }, graph: { nodes: [{ id: name, op: "neg", inputs: ["a"] }], output: name } };
      const list: [FuzzRequest["route"], string, unknown][] = [
        ["gradients", "/v1/gradients", layers],
        ["expressions", "/v1/expressions", expression],
        ["expressions", "/v1/expressions", graph],
        ["expressions", "/v1/expressions", { parameters: { a: 1 }, expression: `${name}(a)` }],
        ["train", "/v1/train", { ...expression, steps: 2, optimizer: { type: "adam" }, history: true }],
        ["grade", "/v1/grade", { problem: layers, submission: { gradients: { [name]: { weight: -2 } } } }],
        [
          "grade",
          "/v1/grade",
          { problem: layers, submission: { loss: 1 }, items: [`/${name}`, `/gradients/${name}/weight`] },
        ],
        ["evaluate", `/v1/functions/${name}/evaluate`, { points: [1] }],
        ["evaluate", "/v1/functions/leaky_relu/evaluate", { points: [1], attributes: { [name]: 1 } }],
      ];
      return list.map(([route, path, body]) => ({
        kind: "proto-key" as const,
        route,
        path,
        body: JSON.stringify(body),
        contentType: "application/json",
      }));
    });
    for (const req of requests) await sendAndCheck(req);
    expectUnpolluted();
  });

  it("keeps answering /healthz after the fuzzing, and sent every kind of request", async () => {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expectUnpolluted();
    if (seen.size === 0) return; // run on its own (vitest -t): nothing was fuzzed
    expect([...seen.keys()].sort()).toEqual([...kinds].sort());
    // Some requests got through to a computation, and most were refused.
    const statuses = [...seen.values()].flatMap((m) => [...m.entries()]);
    const total = (s: string) => statuses.filter(([k]) => k === s).reduce((n, [, c]) => n + c, 0);
    expect(total("200")).toBeGreaterThan(20);
    expect(total("400")).toBeGreaterThan(200);
  });

  // A submission is walked with an explicit stack: 10000 or 100000 levels of nesting are graded, not a 500.
  it("/v1/grade grades a submission nested 10000 and 100000 deep without a 5xx", async () => {
    for (const depth of [10_000, 100_000]) {
      const deep = `${"[".repeat(depth)}1${"]".repeat(depth)}`;
      await sendAndCheck({
        kind: "deep-nesting",
        route: "grade",
        path: "/v1/grade",
        body: `{"problem":{"parameters":{"a":1},"expression":"a"},"submission":{"loss":${deep}}}`,
        contentType: "application/json",
      });
    }
  });

  // Messages quote a rejected value only when it is short: a deeply nested one is named by its kind, never serialized.
  for (const [where, path, body] of [
    [
      "an activation's type",
      "/v1/gradients",
      (v: string) =>
        `{"network":{"layers":[{"weight":1,"activation":{"type":${v}}}],"loss":"sse"},"input":1,"target":1}`,
    ],
    [
      "a loss's type",
      "/v1/gradients",
      (v: string) => `{"network":{"layers":[{"weight":1}],"loss":{"type":${v}}},"input":1,"target":1}`,
    ],
    [
      "a graph node's op",
      "/v1/expressions",
      (v: string) => `{"parameters":{"a":1},"graph":{"nodes":[{"id":"n","op":${v},"inputs":["a"]}],"output":"n"}}`,
    ],
  ] as const) {
    it(`${where} nested 10000 deep is a 4xx, not a 5xx`, async () => {
      const depth = 10_000;
      await sendAndCheck({
        kind: "deep-nesting",
        route: path === "/v1/gradients" ? "gradients" : "expressions",
        path,
        body: body(`${"[".repeat(depth)}1${"]".repeat(depth)}`),
        contentType: "application/json",
      });
    });
  }

  // A schema error under a key containing "/" points at it with the key escaped (/parameters/a~1b).
  it("a schema error under a key containing / has a path that points into the request", async () => {
    for (const body of [
      '{"parameters":{"a/b":1},"expression":"a"}',
      '{"parameters":{"a":1},"graph":{"nodes":[{"id":"n","op":"neg","inputs":["a"],"a/b":[1]}],"output":"n"}}',
    ]) {
      await sendAndCheck({
        kind: "unknown-field",
        route: "expressions",
        path: "/v1/expressions",
        body,
        contentType: "application/json",
      });
    }
  });

  // The router's own errors (a path parameter over 100 characters, bad percent-encoding) are problems too.
  for (const [what, name] of [
    ["over 100 characters", "x".repeat(101)],
    ["with malformed percent-encoding", "%E0%A4%A"],
  ]) {
    it(`a function name ${what} gets a problem+json error`, async () => {
      await sendAndCheck({
        kind: "random-name",
        route: "evaluate",
        path: `/v1/functions/${name}/evaluate`,
        body: '{"points":[1]}',
        contentType: "application/json",
      });
    });
  }

  // A layer, value or graph node named "__proto__" is an own key of the response like any other name.
  it("a layer named __proto__ keeps its gradient in the 200 response", async () => {
    const res = await fetch(`${origin}/v1/gradients`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        network: { layers: [{ name: "__proto__", weight: 1 }], loss: "sse" },
        input: 1,
        target: 2,
      }),
    });
    if (res.status !== 200) return expect(res.status).toBe(400);
    const body = (await res.json()) as { gradients: Record<string, unknown> };
    expect(Object.hasOwn(body.gradients, "__proto__")).toBe(true);
  });

  it("a value or graph node named __proto__ is in values and valueGradients", async () => {
    for (const problem of [
      { parameters: { a: 1 }, expression: "__proto__ = a * 2\n__proto__" },
      { parameters: { a: 1 }, graph: { nodes: [{ id: "__proto__", op: "neg", inputs: ["a"] }], output: "__proto__" } },
    ]) {
      const res = await fetch(`${origin}/v1/expressions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(problem),
      });
      if (res.status !== 200) {
        expect(res.status).toBe(400);
        continue;
      }
      const body = (await res.json()) as { values: object; valueGradients: object };
      expect(Object.hasOwn(body.values, "__proto__")).toBe(true);
      expect(Object.hasOwn(body.valueGradients, "__proto__")).toBe(true);
    }
  });
});
