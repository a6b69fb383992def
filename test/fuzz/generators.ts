/**
 * Generators of hostile requests for every POST route, shared by the fuzz suite (test/api/fuzz.test.ts) and
 * the live fuzzer (scripts/fuzz.ts). A request is built as JSON *text*, not as a JS object, so that it can
 * hold what JS objects cannot: `__proto__` keys, duplicate keys, 1e999, -0, NaN, truncated text.
 */
import fc from "fast-check";
import { catalog } from "../../src/core/catalog.js";
import { opNames, registry } from "../../src/core/ops/registry.js";

// ---------------------------------------------------------------------------------------------------------
// JSON text

/** A literal written into the text as it is: `1e999`, `-0`, `NaN`, a 100000-deep array. */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object as a list of entries, so that it can have `__proto__` or a key twice. */
export class Entries {
  constructor(readonly entries: readonly (readonly [string, Json])[]) {}
}

export type Json = null | boolean | number | string | Raw | Entries | Json[] | { [key: string]: Json };

const isPlainObject = (v: Json): v is { [key: string]: Json } =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Entries);

const keyValue = (k: string, v: Json): string => `${JSON.stringify(k)}:${toText(v)}`;

export function toText(value: Json): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Entries) return `{${value.entries.map(([k, v]) => keyValue(k, v)).join(",")}}`;
  if (Array.isArray(value)) return `[${value.map(toText).join(",")}]`;
  if (isPlainObject(value)) return `{${Object.entries(value).map(([k, v]) => keyValue(k, v))}}`;
  return JSON.stringify(value);
}

type Path = readonly (string | number)[];

/** Every place in a value (pre-order, the root first) that a mutation may replace; Raw and Entries are leaves. */
function places(value: Json, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) places(v, [...path, i], out);
  } else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) places(v, [...path, k], out);
  return out;
}

function at(value: Json, path: Path): Json {
  let v = value;
  for (const p of path) v = (v as Record<string | number, Json>)[p];
  return v;
}

function replaceAt(value: Json, path: Path, f: (old: Json) => Json): Json {
  if (path.length === 0) return f(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, f) : v));
  const copy = { ...(value as Record<string, Json>) };
  copy[head as string] = replaceAt(copy[head as string], rest, f);
  return copy;
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export const routes = ["gradients", "expressions", "train", "grade", "evaluate"] as const;
export type Route = (typeof routes)[number];

export const kinds = [
  "valid",
  "malformed-json",
  "wrong-type",
  "special-number",
  "string-number",
  "ragged-matrix",
  "empty-matrix",
  "shape-mismatch",
  "deep-nesting",
  "huge-array",
  "unknown-field",
  "proto-key",
  "long-expression",
  "unknown-op",
  "graph-cycle",
  "random-name",
  "content-type",
] as const;
export type Kind = (typeof kinds)[number];

export interface FuzzRequest {
  readonly kind: Kind;
  readonly route: Route;
  /** The URL path (and query) on the server. */
  readonly path: string;
  readonly body: string;
  /** The Content-Type header; null sends none. */
  readonly contentType: string | null;
}

export interface FuzzOptions {
  /** Deepest nesting of arrays and objects in "deep-nesting" bodies. */
  readonly maxDepth: number;
  /** Most numbers in one "huge-array" value. */
  readonly maxHugeNumbers: number;
  /** The server's MAX_EXPRESSION_LENGTH: long expressions are generated on both sides of it. */
  readonly expressionLimit: number;
  /** Most optimizer steps of a training problem. */
  readonly maxSteps: number;
  /** Whether unknown fields may have "/" in their names (which a JSON pointer writes as "~1"). */
  readonly slashInKeys: boolean;
  /**
   * Whether function names may be longer than the router's 100-character parameter limit or carry malformed
   * percent-encoding: requests that the router refuses before any route sees them.
   */
  readonly routerEdgeCases: boolean;
}

export const defaultFuzzOptions: FuzzOptions = {
  maxDepth: 100_000,
  maxHugeNumbers: 1_000_000,
  expressionLimit: 10_000,
  maxSteps: 50,
  slashInKeys: true,
  routerEdgeCases: true,
};

// ---------------------------------------------------------------------------------------------------------
// Values

const activations = opNames("activation");
const losses = opNames("loss");
const ops = opNames();
const unknownNames = ["sigmod", "relu6", "foo", "eval", "constructor", "__proto__", "toString", "hasOwnProperty", ""];

const smallNumber = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }),
);
const probability = fc.double({ min: 0, max: 1, noNaN: true });

const matrix = (rows: number, cols: number, entry: fc.Arbitrary<number> = smallNumber) =>
  fc.array(fc.array(entry, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows });

/** A number, a list or a matrix of small size: any value a field takes. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  smallNumber,
  fc.array(smallNumber, { minLength: 1, maxLength: 4 }),
  fc.integer({ min: 1, max: 3 }).chain((r) => fc.integer({ min: 1, max: 3 }).chain((c) => matrix(r, c))),
);

const activation: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...activations),
  fc.constant({ type: "leaky_relu", slope: 0.2 }),
  fc.constant({ type: "elu", alpha: 0.5 }),
);
const loss: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...losses),
  fc.record({ type: fc.constantFrom(...losses), reduction: fc.constantFrom("sum", "mean") }),
);

/**
 * A layer-stack problem. Consistent: the shapes fit (the numbers may still be outside a loss's domain).
 * Inconsistent: every dimension is drawn on its own, so most do not fit.
 */
function networkProblem(consistent: boolean): fc.Arbitrary<{ [key: string]: Json }> {
  return fc
    .record({
      dims: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 4 }),
      samples: fc.integer({ min: 1, max: 3 }),
      rows: fc.boolean(),
      loss,
      bias: fc.boolean(),
      wild: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }),
    })
    .chain(({ dims, samples, rows, loss, bias, wild }) => {
      const dim = (i: number, d: number) => (consistent ? d : wild[i % wild.length]);
      const layers = dims.slice(1).map((out, i) => {
        const inp = dims[i];
        const [r, c] = rows ? [dim(2 * i, inp), dim(2 * i + 1, out)] : [dim(2 * i, out), dim(2 * i + 1, inp)];
        return fc.record(
          {
            weight: matrix(r, c),
            bias: fc.array(smallNumber, { minLength: dim(i + 5, out), maxLength: dim(i + 5, out) }),
            activation,
          },
          { requiredKeys: bias ? ["weight", "bias"] : ["weight"] },
        );
      });
      const inputs = dims[0];
      const outputs = dims[dims.length - 1];
      const lossType = typeof loss === "string" ? loss : (loss as { type: string }).type;
      const isProbability = lossType === "bce" || lossType === "bce_with_logits";
      const entry = isProbability ? probability : smallNumber;
      const shape = (features: number) => (rows ? ([samples, features] as const) : ([features, samples] as const));
      return fc.record({
        network: fc.record({
          ...(rows ? { layout: fc.constant("rows") } : {}),
          layers: fc.tuple(...layers),
          loss: fc.constant(loss),
        }),
        input: matrix(...shape(dim(6, inputs))),
        target: matrix(...shape(dim(7, outputs)), entry),
      }) as fc.Arbitrary<{ [key: string]: Json }>;
    });
}

const names = ["a", "b", "c", "W", "X", "Y", "x", "y"];
const numberLiteral = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 9 }).map(String), weight: 5 },
  { arbitrary: fc.constantFrom("0.5", ".5", "1e-3", "2.5e2"), weight: 3 },
  { arbitrary: fc.constantFrom("1e999", "1e308", "0.0"), weight: 1 },
);

/** Expression text from the grammar, with functions drawn from `functions`. */
function expressionText(functions: readonly string[]): fc.Arbitrary<string> {
  const { e } = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true, maxDepth: 4 },
      fc.oneof(fc.constantFrom(...names), numberLiteral),
      fc
        .tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "@", "^", "**"), tie("e"))
        .map(([l, op, r]) => `${l} ${op} ${r}`),
      fc
        .tuple(fc.constantFrom(...functions), fc.integer({ min: 0, max: 9 }))
        .chain(([f, wrong]) =>
          fc.array(tie("e"), arity(wrong === 0 ? undefined : f)).map((args) => `${f}(${args.join(", ")})`),
        ),
      tie("e").map((x) => `(${x})`),
      tie("e").map((x) => `-${x}`),
      tie("e").map((x) => `${x}'`),
    ),
  }));
  return fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...names, "P", "L", "h"), e), { maxLength: 3 }),
      e,
      fc.boolean(),
      fc.constantFrom("\n", "; "),
    )
    .map(([statements, last, summed, separator]) =>
      [...statements.map(([n, x]) => `${n} = ${x}`), summed ? `sum(${last})` : last].join(separator),
    );
}

/** Parameters and constants with disjoint names, binding most of the names the expressions use. */
const bindings = fc.tuple(...names.map(() => fc.tuple(anyValue, fc.integer({ min: 0, max: 9 })))).map((values) => {
  const parameters: { [key: string]: Json } = {};
  const constants: { [key: string]: Json } = {};
  values.forEach(([value, k], i) => {
    if (k < 5) parameters[names[i]] = value;
    else if (k < 9) constants[names[i]] = value;
  });
  return { parameters, constants };
});

/** How many operands an op takes, as array bounds; any count up to 3 for an unknown op. */
function arity(op: string | undefined): { minLength: number; maxLength: number } {
  const n = op === undefined ? undefined : registry.get(op)?.operands.length;
  return n === undefined ? { minLength: 0, maxLength: 3 } : { minLength: n, maxLength: n };
}

/** Attributes of an op's node: some of its own, or (wrong) any names. */
function attributes(op: string, wrong: boolean): fc.Arbitrary<{ [key: string]: Json }> {
  const own = Object.keys(registry.get(op)?.attrs ?? {});
  const keys = wrong ? [...own, "axis", "reduction", "slope", "alpha"] : own;
  if (keys.length === 0) return fc.constant({});
  return fc.dictionary(fc.constantFrom(...keys), fc.constantFrom<Json>(0, 1, 0.2, -1, 2, "sum", "mean", "rows", null), {
    maxKeys: 2,
  });
}

/** A graph of up to six nodes; `cyclic` lets inputs point forward, which makes cycles likely. */
function graph(cyclic: boolean, opList: readonly string[] = ops): fc.Arbitrary<Json> {
  return fc.integer({ min: 1, max: 6 }).chain((count) => {
    const ids = Array.from({ length: count }, (_, i) => `n${i}`);
    const node = (i: number) =>
      fc.tuple(fc.constantFrom(...opList), fc.integer({ min: 0, max: 9 })).chain(([op, wrong]) =>
        fc
          .tuple(
            fc.record({
              id: fc.constant(ids[i]),
              op: fc.constant(op),
              inputs: fc.array(
                fc.oneof(
                  fc.constantFrom(...names),
                  fc.constantFrom(...(cyclic ? ids : i === 0 ? names : ids.slice(0, i))),
                  smallNumber,
                ),
                // mostly the op's arity, sometimes any count
                arity(wrong === 0 ? undefined : op),
              ),
            }),
            attributes(op, wrong === 1),
          )
          .map(([node, attrs]) => ({ ...node, ...attrs })),
      );
    return fc.record({
      nodes: fc.tuple(...ids.map((_, i) => node(i))),
      output: fc.oneof(
        { arbitrary: fc.constant(ids[count - 1]), weight: 6 },
        { arbitrary: fc.constantFrom(...ids, "missing"), weight: 1 },
      ),
    }) as fc.Arbitrary<Json>;
  });
}

/** A graph whose nodes feed each other in a loop (a self-loop when it has one node). */
const cyclicGraph: fc.Arbitrary<Json> = fc
  .record({ length: fc.integer({ min: 1, max: 5 }), op: fc.constantFrom("add", "mul", "sigmoid", "matmul") })
  .map(({ length, op }) => ({
    nodes: Array.from({ length }, (_, i) => ({ id: `n${i}`, op, inputs: [`n${(i + 1) % length}`, "a"] })),
    output: "n0",
  }));

function expressionProblem(functions: readonly string[] = ops): fc.Arbitrary<{ [key: string]: Json }> {
  return fc
    .tuple(bindings, fc.oneof(expressionText(functions), graph(false)))
    .map(([{ parameters, constants }, computation]) => ({
      parameters,
      constants,
      ...(typeof computation === "string" ? { expression: computation } : { graph: computation }),
    }));
}

const optimizer: fc.Arbitrary<Json> = fc.oneof(
  fc
    .record(
      {
        type: fc.constant("sgd"),
        lr: fc.double({ min: 1e-4, max: 1, noNaN: true }),
        momentum: fc.constantFrom(0, 0.9),
        nesterov: fc.boolean(),
      },
      { requiredKeys: ["type"] },
    )
    .map((o) => (o.nesterov && !o.momentum ? { ...o, nesterov: false } : o)),
  fc.record(
    { type: fc.constantFrom("adam", "rmsprop", "adagrad"), lr: fc.double({ min: 1e-4, max: 1, noNaN: true }) },
    { requiredKeys: ["type"] },
  ),
);

function training(options: FuzzOptions) {
  return {
    steps: fc.integer({ min: 1, max: options.maxSteps }),
    optimizer,
    batch: fc.record({ size: fc.integer({ min: 1, max: 3 }) }),
    history: fc.boolean(),
  };
}

const trainBody = (options: FuzzOptions, problem: fc.Arbitrary<{ [key: string]: Json }>) =>
  fc.tuple(problem, fc.record(training(options), { requiredKeys: ["steps", "optimizer"] })).map(([p, t]) => {
    // an expression batches over constants it names
    const constants = Object.keys((p.constants ?? {}) as object);
    const batch = t.batch && !p.network ? { ...t.batch, over: constants.slice(0, 1) } : t.batch;
    return { ...p, ...t, ...(batch ? { batch } : {}) } as Json;
  });

/** Students' answers: pieces of a response with plausible and implausible values. */
const submission: fc.Arbitrary<Json> = fc.record(
  {
    loss: anyValue,
    output: anyValue,
    gradients: fc.record({ layer1: fc.record({ weight: anyValue }), W: anyValue }, { requiredKeys: [] }),
    updatedNetwork: fc.record({ layers: fc.array(fc.record({ weight: anyValue }), { maxLength: 2 }) }),
    inputGradient: anyValue,
    extra: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  },
  { requiredKeys: [] },
);

const gradedPointer = fc.constantFrom(
  "/loss",
  "/gradients/layer1/weight",
  "/updatedNetwork/layers/0/weight",
  "/output",
  "",
  "loss",
  "/~2",
  "/__proto__",
  "/constructor/prototype",
  "/forward/0/activation",
);

function gradeBody(options: FuzzOptions, consistent = true): fc.Arbitrary<Json> {
  const problem = fc.oneof(
    fc.tuple(networkProblem(consistent), fc.option(fc.constant(0.1), { nil: undefined })).map(([p, lr]) => ({
      ...p,
      ...(lr === undefined ? {} : { learningRate: lr }),
    })),
    expressionProblem(),
    trainBody(options, networkProblem(consistent)),
  );
  return fc.record(
    {
      problem,
      submission,
      items: fc.array(fc.oneof(gradedPointer, fc.record({ path: gradedPointer, weight: fc.constantFrom(1, 2, 0.5) })), {
        minLength: 1,
        maxLength: 3,
      }),
      tolerance: fc.oneof(fc.constant({ rtol: 0.01, atol: 1e-8 }), fc.constant({ digits: 3 })),
    },
    { requiredKeys: ["problem", "submission"] },
  );
}

const evaluable = catalog()
  .filter((f) => f.evaluable)
  .map((f) => f.name);

const evaluateBody = (name: string): fc.Arbitrary<Json> =>
  fc.record(
    {
      points: fc.array(fc.oneof(smallNumber, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(0)), {
        minLength: 1,
        maxLength: 8,
      }),
      target: fc.oneof(smallNumber, probability),
      attributes: fc.integer({ min: 0, max: 4 }).chain((wrong) => attributes(name, wrong === 0)),
    },
    { requiredKeys: ["points"] },
  );

const evaluatePath = (name: string) => `/v1/functions/${encodeURIComponent(name)}/evaluate`;

/** A valid-looking body of each route (its numbers may still be out of a function's domain). */
function base(route: Route, options: FuzzOptions, consistent = true): fc.Arbitrary<{ path: string; body: Json }> {
  switch (route) {
    case "gradients":
      return fc
        .tuple(networkProblem(consistent), fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }))
        .map(([p, lr]) => ({
          path: "/v1/gradients",
          body: lr === undefined ? p : { ...p, learningRate: lr },
        }));
    case "expressions":
      return expressionProblem().map((body) => ({ path: "/v1/expressions", body }));
    case "train":
      return trainBody(options, fc.oneof(networkProblem(consistent), expressionProblem())).map((body) => ({
        path: "/v1/train",
        body,
      }));
    case "grade":
      return fc
        .tuple(gradeBody(options, consistent), fc.constantFrom("", "?format=gradescope", "?format=json", "?format=x"))
        .map(([body, query]) => ({ path: `/v1/grade${query}`, body }));
    case "evaluate":
      return fc
        .constantFrom(...evaluable)
        .chain((name) => evaluateBody(name).map((body) => ({ path: evaluatePath(name), body })));
  }
}

const anyRoute = fc.constantFrom(...routes);

// ---------------------------------------------------------------------------------------------------------
// Mutations of a body: replace one place (chosen at random, so at any depth) with something hostile

type Replacement = (old: Json) => Json;

const specialNumbers = [
  "NaN",
  "Infinity",
  "-Infinity",
  "1e308",
  "-1e308",
  "1.7976931348623157e308",
  "-0",
  "-0.0",
  "1e999",
  "-1e999",
  "1e-400",
  "5e-324",
  "+1",
  "01",
  "0x10",
  ".5",
  "5.",
  "1e",
  "1E+2",
  "--1",
];

/** A deterministic stream of short number literals, to build huge arrays without a generator per entry. */
function numberLiterals(count: number, seed: number): string[] {
  const out = new Array<string>(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const k = s % 20;
    out[i] = k < 10 ? String(k - 5) : `${k < 15 ? "" : "-"}0.${s % 1000}`;
  }
  return out;
}

function hugeArray(options: FuzzOptions): fc.Arbitrary<Json> {
  return fc
    .record({
      count: fc.integer({ min: Math.min(1000, options.maxHugeNumbers), max: options.maxHugeNumbers }),
      shape: fc.constantFrom("list", "column", "row", "square"),
      seed: fc.nat(),
    })
    .map(({ count, shape, seed }) => {
      const xs = numberLiterals(count, seed);
      switch (shape) {
        case "list":
          return new Raw(`[${xs.join(",")}]`);
        case "row":
          return new Raw(`[[${xs.join(",")}]]`);
        case "column":
          return new Raw(`[${xs.map((x) => `[${x}]`).join(",")}]`);
        default: {
          const side = Math.max(1, Math.floor(Math.sqrt(count)));
          const rows = Array.from({ length: side }, (_, r) => `[${xs.slice(r * side, (r + 1) * side).join(",")}]`);
          return new Raw(`[${rows.join(",")}]`);
        }
      }
    });
}

function deepNesting(options: FuzzOptions): fc.Arbitrary<Json> {
  return fc
    .record({
      depth: fc.oneof(
        fc.integer({ min: 1, max: Math.min(100, options.maxDepth) }),
        fc.integer({ min: 1, max: options.maxDepth }),
      ),
      kind: fc.constantFrom("array", "object", "mixed"),
    })
    .map(({ depth, kind }) => {
      if (kind === "array") return new Raw(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
      if (kind === "object") return new Raw(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
      return new Raw(`${'[{"a":'.repeat(depth)}[1]${"}]".repeat(depth)}`);
    });
}

const unknownKeys = ["learning_rate", "Network", "weights", "", " ", "layers ", "é", "$ref", "null", "0", "a~b", "~1"];
const slashKeys = ["a/b~c", "/", "x/y"];

/** A prototype-poisoning entry: `__proto__` or `constructor.prototype`, holding a key to look for afterwards. */
export const poisonEntries: readonly (readonly [string, Json])[] = [
  ["__proto__", { polluted: "yes" }],
  ["__proto__", new Raw('{"__proto__":{"polluted":"yes"}}')],
  ["constructor", { prototype: { polluted: "yes" } }],
  ["constructor", new Raw('{"prototype":{"polluted":"yes"},"polluted":"yes"}')],
  ["prototype", { polluted: "yes" }],
  ["__proto__", null],
  ["__proto__", []],
];

function addEntry(old: Json, entry: readonly [string, Json]): Json {
  const existing = isPlainObject(old) ? Object.entries(old) : [];
  return new Entries([...existing, entry]);
}

const mutations: { readonly [K in Kind]?: (o: FuzzOptions) => fc.Arbitrary<Replacement> } = {
  "wrong-type": () =>
    fc.constantFrom<Json>("text", "", true, false, null, {}, [], { x: 1 }, [["a"]], [true], [null]).map((v) => () => v),
  "special-number": () =>
    fc.tuple(fc.constantFrom(...specialNumbers), fc.constantFrom("bare", "in-list", "in-matrix")).map(
      ([n, where]) =>
        () =>
          new Raw(where === "bare" ? n : where === "in-list" ? `[1,${n}]` : `[[1,${n}],[2,3]]`),
    ),
  "string-number": () =>
    fc.constantFrom<Json>("0.5", "1e999", "NaN", "", "1,5", [["0.3", 0.5]], ["1", "2"], "Infinity").map((v) => () => v),
  "ragged-matrix": () =>
    fc
      .constantFrom<Json>(
        [[1, 2], [3]],
        [[1], [2, 3]],
        [[1, 2], []],
        [1, [2]],
        [[1, 2], 3],
        [
          [1, 2, 3],
          [4, 5],
          [6, 7, 8],
        ],
      )
      .map((v) => () => v),
  "empty-matrix": () => fc.constantFrom<Json>([], [[]], [[], []], {}, [[], [1]]).map((v) => () => v),
  "deep-nesting": (o) => deepNesting(o).map((v) => () => v),
  "huge-array": (o) => hugeArray(o).map((v) => () => v),
  "unknown-field": (o) =>
    fc.tuple(fc.constantFrom(...unknownKeys, ...(o.slashInKeys ? slashKeys : [])), anyValue).map(
      ([k, v]) =>
        (old: Json) =>
          addEntry(old, [k, v]),
    ),
  "proto-key": () => fc.constantFrom(...poisonEntries).map((entry) => (old: Json) => addEntry(old, entry)),
};

/** Kinds that only make sense on objects (they add a key). */
const onObjects = new Set<Kind>(["unknown-field", "proto-key"]);

function mutated(kind: Kind, options: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const replacement = mutations[kind]?.(options);
  if (!replacement) throw new Error(`no mutation for ${kind}`);
  return fc
    .tuple(
      anyRoute.chain((route) => base(route, options).map((b) => ({ route, ...b }))),
      fc.nat(),
      replacement,
    )
    .map(([{ route, path, body }, pick, replace]) => {
      let candidates = places(body);
      if (onObjects.has(kind)) candidates = candidates.filter((p) => isPlainObject(at(body, p)));
      const where = candidates[pick % candidates.length];
      return json(kind, route, path, replaceAt(body, where, replace));
    });
}

const json = (kind: Kind, route: Route, path: string, body: Json): FuzzRequest => ({
  kind,
  route,
  path,
  body: toText(body),
  contentType: "application/json",
});

// ---------------------------------------------------------------------------------------------------------
// Text-level and targeted generators

const garbage = ["{", "}", "[", "]", '"', ",", ":", "\\", "\u0000", "é", "\n", " ", "t", "n", "-", "+", ".", "e", "0"];

const malformed = (options: FuzzOptions): fc.Arbitrary<FuzzRequest> =>
  fc
    .tuple(
      anyRoute.chain((route) => base(route, options).map((b) => ({ route, ...b }))),
      fc.constantFrom("truncate", "garble", "insert", "delete", "wrap", "replace"),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...garbage)), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(
        "",
        " ",
        "null",
        "[]",
        "1",
        '"text"',
        "{'a': 1}",
        '{"a": 1,}',
        '{"a": 1} {"b": 2}',
        "\uFEFF{}",
        "// comment\n{}",
        '{"a": "\\x"}',
        '{"a": "\u0001"}',
        '{"a": "\\ud800"}',
        '{"a": 1',
        "{{{{",
      ),
    )
    .map(([{ route, path, body }, how, edits, replacement]) => {
      let text = toText(body);
      for (const [n, ch] of edits) {
        const i = n % (text.length + 1);
        if (how === "truncate") text = text.slice(0, Math.max(0, i - 1));
        else if (how === "garble") text = text.slice(0, i) + ch + text.slice(i + 1);
        else if (how === "insert") text = text.slice(0, i) + ch + text.slice(i);
        else if (how === "delete") text = text.slice(0, i) + text.slice(i + 1);
      }
      if (how === "wrap") text = `${text}${edits[0][1]}`;
      if (how === "replace") text = replacement;
      return { kind: "malformed-json" as const, route, path, body: text, contentType: "application/json" };
    });

const shapeMismatch = (options: FuzzOptions): fc.Arbitrary<FuzzRequest> =>
  fc.oneof(
    fc
      .constantFrom<Route>("gradients", "train", "grade")
      .chain((route) => base(route, options, false).map(({ path, body }) => json("shape-mismatch", route, path, body))),
    fc
      .tuple(
        bindings,
        fc.constantFrom("sum(W @ X)", "sse(Y, W @ X)", "sum(a + W)", "mse(y, W)", "W @ X @ Y", "sum(X')"),
      )
      .map(([{ parameters, constants }, expression]) =>
        json("shape-mismatch", "expressions", "/v1/expressions", { parameters, constants, expression }),
      ),
  );

function longExpression(options: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const limit = options.expressionLimit;
  return fc
    .record({
      length: fc.oneof(
        fc.integer({ min: limit - 20, max: limit + 20 }),
        fc.integer({ min: 1, max: limit }),
        fc.integer({ min: limit, max: 6 * limit }),
      ),
      pattern: fc.constantFrom(
        "sum",
        "product",
        "unary",
        "parens",
        "power",
        "transpose",
        "statements",
        "name",
        "comment",
      ),
      route: fc.constantFrom<Route>("expressions", "train", "grade"),
    })
    .map(({ length, pattern, route }) => {
      const n = Math.max(1, length);
      const half = Math.floor(n / 2);
      const expression = {
        sum: `a${"+a".repeat(half)}`,
        product: `a${"*b".repeat(half)}`,
        unary: `${"-".repeat(n)}a`,
        parens: `${"(".repeat(half)}a${")".repeat(half)}`,
        power: `a${"^a".repeat(half)}`,
        transpose: `a${"'".repeat(n)}`,
        statements: Array.from({ length: Math.ceil(n / 12) }, (_, i) => `v${i} = ${i ? `v${i - 1}` : "a"} * b`).join(
          "\n",
        ),
        name: `${"v".repeat(n)} = a\n${"v".repeat(n)}`,
        comment: `# ${"x".repeat(n)}\na * b`,
      }[pattern];
      const problem = { parameters: { a: 0.5 }, constants: { b: 1.0001 }, expression };
      if (route === "expressions") return json("long-expression", route, "/v1/expressions", problem);
      if (route === "train")
        return json("long-expression", route, "/v1/train", { ...problem, steps: 2, optimizer: { type: "sgd" } });
      return json("long-expression", route, "/v1/grade", { problem, submission: { output: 1 } });
    });
}

function unknownOp(options: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const bogus = fc.constantFrom(...unknownNames);
  return fc.oneof(
    // an unknown function in expression text, and an unknown op in a graph
    fc
      .tuple(bindings, expressionText([...ops.slice(0, 4), ...unknownNames.filter((n) => n !== "")]))
      .map(([b, expression]) => json("unknown-op", "expressions", "/v1/expressions", { ...b, expression })),
    fc
      .tuple(bindings, graph(false, [...ops.slice(0, 3), ...unknownNames]))
      .map(([b, g]) => json("unknown-op", "expressions", "/v1/expressions", { ...b, graph: g })),
    // an unknown activation, loss or optimizer
    fc
      .tuple(base("gradients", options), bogus, fc.constantFrom("activation", "loss", "lossType", "activationType"))
      .map(([{ path, body }, name, where]) => {
        const b = body as { network: { layers: Json[]; loss: Json } };
        const network =
          where === "loss"
            ? { ...b.network, loss: name }
            : where === "lossType"
              ? { ...b.network, loss: { type: name } }
              : {
                  ...b.network,
                  layers: [{ weight: 1, activation: where === "activation" ? name : { type: name } }],
                };
        return json("unknown-op", "gradients", path, { ...(body as object), network });
      }),
    fc
      .tuple(base("train", options), bogus)
      .map(([{ path, body }, name]) =>
        json("unknown-op", "train", path, { ...(body as object), optimizer: { type: name, lr: 0.1 } }),
      ),
  );
}

const graphCycle = (options: FuzzOptions): fc.Arbitrary<FuzzRequest> =>
  fc
    .tuple(fc.oneof(cyclicGraph, graph(true)), fc.constantFrom<Route>("expressions", "train", "grade"))
    .map(([g, route]) => {
      const problem = { parameters: { a: 0.5, W: [[1, 2]] }, constants: { x: [[1], [2]] }, graph: g };
      if (route === "expressions") return json("graph-cycle", route, "/v1/expressions", problem);
      if (route === "train")
        return json("graph-cycle", route, "/v1/train", {
          ...problem,
          steps: Math.min(3, options.maxSteps),
          optimizer: { type: "adam" },
        });
      return json("graph-cycle", route, "/v1/grade", { problem, submission: { output: 1 } });
    });

/** A path segment the router refuses: over 100 characters once encoded, or malformed percent-encoding. */
const routerEdgeCase = fc.oneof(
  fc.integer({ min: 101, max: 2000 }).map((n) => "x".repeat(n)),
  fc.string({ unit: "grapheme", minLength: 12, maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom("%", "%E0%A4%A", "%zz", "sig%moid", "%C0%AF"),
);

const randomName = (options: FuzzOptions): fc.Arbitrary<FuzzRequest> => {
  const encoded = fc
    .oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: "grapheme", maxLength: 10 }),
      fc.string({ unit: "binary", maxLength: 10 }),
      fc.constantFrom(...unknownNames.filter((n) => n !== ""), "..", ".", "%", "SIGMOID", "sigmoid ", "x".repeat(100)),
      fc.constantFrom(...opNames()),
    )
    .map(encodeURIComponent)
    // within the router's limit of 100 characters per parameter unless edge cases are wanted
    .filter((segment) => options.routerEdgeCases || segment.length <= 100);
  const segment = options.routerEdgeCases ? fc.oneof(encoded, routerEdgeCase) : encoded;
  return fc
    .tuple(segment, evaluateBody("sigmoid"))
    .map(([name, body]) => json("random-name", "evaluate", `/v1/functions/${name}/evaluate`, body));
};

const contentType = (options: FuzzOptions): fc.Arbitrary<FuzzRequest> =>
  fc
    .tuple(
      anyRoute.chain((route) => base(route, options).map((b) => ({ route, ...b }))),
      fc.constantFrom(
        null,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "application/json; charset=latin1",
        "APPLICATION/JSON",
        "application/problem+json",
        "multipart/form-data; boundary=x",
        "application/jsonx",
      ),
    )
    .map(([{ route, path, body }, type]) => ({
      kind: "content-type" as const,
      route,
      path,
      body: toText(body),
      contentType: type,
    }));

/** The generator of one kind of request. */
export function requestsOf(kind: Kind, options: FuzzOptions = defaultFuzzOptions): fc.Arbitrary<FuzzRequest> {
  switch (kind) {
    case "valid":
      return anyRoute.chain((route) => base(route, options).map(({ path, body }) => json("valid", route, path, body)));
    case "malformed-json":
      return malformed(options);
    case "shape-mismatch":
      return shapeMismatch(options);
    case "long-expression":
      return longExpression(options);
    case "unknown-op":
      return unknownOp(options);
    case "graph-cycle":
      return graphCycle(options);
    case "random-name":
      return randomName(options);
    case "content-type":
      return contentType(options);
    default:
      return mutated(kind, options);
  }
}

/** Every kind, equally often. */
export function fuzzRequests(
  options: FuzzOptions = defaultFuzzOptions,
  only: readonly Kind[] = kinds,
): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...only.map((k) => requestsOf(k, options)));
}
