import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GradeResponse, GradescopeResult } from "../../src/api/schemas/grade.js";
import { useApp } from "../support/app.js";
import { expectClose } from "../support/close.js";
import { fixture } from "../support/fixtures.js";

type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

/** Every number of a JSON value rounded to 3 significant figures, as a student copies it from a calculator. */
function rounded(v: Json): Json {
  if (typeof v === "number") return Number(v.toPrecision(3));
  if (Array.isArray(v)) return v.map(rounded);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)]));
  return v;
}

interface Item {
  path: string;
  weight: number;
  correct: boolean;
  expected?: unknown;
  submitted?: unknown;
  entries: { row: number; column: number; expected: number; submitted: number; correct: boolean }[];
  feedback: string[];
}
interface Result {
  score: number;
  maxScore: number;
  items: Item[];
}

// Homework 1 (test/fixtures/networks.json, from test/fixtures/reference.py; by hand: WX = [[1.5, 1.1], [1.2, 0]],
// Y − WX = [[−1, −0.1], [−0.2, −1.5]], L = 1 + 0.01 + 0.04 + 2.25 = 3.3, ∇L = −2 (Y − WX) Xᵀ = [[0.4, 6.2], [6, 4.2]],
// W − 0.1 ∇L = [[0.26, −0.12], [−0.8, −0.02]]).
const hw1 = fixture("homework1-linear-sse");
const W = (hw1.request.network.layers[0] as { weight: number[][] }).weight;
const G = [
  [0.4, 6.2],
  [6, 4.2],
];
const updated = [
  [0.26, -0.12],
  [-0.8, -0.02],
];
const LOSS = "/loss";
const GRADIENT = "/gradients/layer1/weight";
const UPDATE = "/updatedNetwork/layers/0/weight";
const answer = (loss: number, gradient?: number[][], update?: number[][]) => ({
  loss,
  ...(gradient ? { gradients: { layer1: { weight: gradient } } } : {}),
  ...(update ? { updatedNetwork: { layers: [{ weight: update }] } } : {}),
});
const plus = (a: number[][], b: number[][], s: number) => a.map((r, i) => r.map((x, j) => x + s * b[i][j]));
const T = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));

const WRONG_SIGN = "the update has the wrong sign: this is W + lr·∇L, but gradient descent takes W − lr·∇L";
const FOLLOWS =
  "the update follows correctly from your gradient, which is wrong: fix the gradient and the update follows";
const SLIP_IN_UPDATE = "your gradient is right, so the slip is in the update step W − lr·∇L";

describe("POST /v1/grade", () => {
  const api = useApp();
  const grade = async (body: unknown, query = ""): Promise<Result[]> => {
    const res = await api.post(`/v1/grade${query}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(GradeResponse.safeParse(res.body).success).toBe(true);
    return res.body.results;
  };
  const gradeOne = async (body: Record<string, unknown>): Promise<Result> => {
    const results = await grade(body);
    expect(results).toHaveLength(1);
    return results[0];
  };
  const item = (r: Result, path: string): Item => {
    const found = r.items.find((i) => i.path === path);
    if (!found) throw new Error(`no item ${path} in ${JSON.stringify(r.items.map((i) => i.path))}`);
    return found;
  };

  describe("a submission that copies the answers, rounded to 3 significant figures, gets full marks", () => {
    it.each(["homework1-linear-sse", "columns-tanh-ce-indices", "rows-l2reg-leaky-default-bce-sum"])(
      "%s: every item of the response",
      async (name) => {
        const f = fixture(name);
        const r = await gradeOne({ problem: f.request, submission: rounded(f.expected as unknown as Json) as object });
        expect(r.items.filter((i) => !i.correct)).toEqual([]);
        expect(r.score).toBe(r.maxScore);
        // loss, output, preActivation and activation per layer, weight (and bias) gradients per layer, inputGradient,
        // updated weight (and bias) per layer: homework 1 has one layer without bias.
        if (name === "homework1-linear-sse") expect(r.maxScore).toBe(7);
        // Two layers with biases (4 gradients, 4 updated values), 4 forward values, loss, output, input gradient.
        if (name === "columns-tanh-ce-indices") expect(r.maxScore).toBe(15);
      },
    );

    it("homework 1 as a student writes it, by hand", async () => {
      const r = await gradeOne({ problem: hw1.request, submission: answer(3.3, G, updated) });
      expect(r).toMatchObject({ score: 3, maxScore: 3 });
      expect(r.items.map((i) => i.path)).toEqual([LOSS, GRADIENT, UPDATE]);
      // Entry by entry, against the reference.
      const g = item(r, GRADIENT);
      expect(g.entries).toHaveLength(4);
      expectClose(
        g.entries.map((e) => e.expected),
        [hw1.expected.gradients.layer1.weight].flat(2),
        1e-14,
      );
      expect(g.entries.map((e) => [e.row, e.column])).toEqual([
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ]);
    });
  });

  describe("the classic slips on homework 1 (lr 0.1), each in its own submission, graded in order", () => {
    const submissions = {
      correct: answer(3.3, G, updated),
      offByPointOne: answer(
        3.3,
        plus(
          G,
          [
            [0, 0],
            [0, 0.1],
          ],
          1,
        ),
        updated,
      ),
      updateWrongSign: answer(3.3, G, plus(W, G, 0.1)), // W + lr·∇L = [[0.34, 1.12], [0.4, 0.82]]
      transposedGradient: answer(3.3, T(G), updated),
      followsOwnGradient: answer(3.3, T(G), plus(W, T(G), -0.1)), // [[0.26, −0.1], [−0.82, −0.02]]
      slipInUpdate: answer(3.3, G, plus(W, G, -0.01)), // lr 0.01 instead of 0.1
      lossSign: answer(-3.3, G, updated),
      wrongSignOwnGradient: answer(
        3.3,
        plus(
          G,
          [
            [0, 0],
            [0, 0.1],
          ],
          1,
        ),
        plus(
          W,
          plus(
            G,
            [
              [0, 0],
              [0, 0.1],
            ],
            1,
          ),
          0.1,
        ),
      ),
      oneSignFlipped: answer(3.3, [
        [0.4, -6.2],
        [6, 4.2],
      ]),
      oneEntryTransposed: answer(3.3, [
        [0.4, 6],
        [6, 4.2],
      ]),
    };
    const names = Object.keys(submissions) as (keyof typeof submissions)[];
    let results: Record<string, Result>;
    const graded = async () => {
      if (!results) {
        const list = await grade({
          problem: hw1.request,
          submissions: Object.values(submissions),
          items: [LOSS, GRADIENT, UPDATE],
        });
        expect(list).toHaveLength(names.length);
        results = Object.fromEntries(names.map((n, i) => [n, list[i]]));
      }
      return results;
    };
    const wrongItems = (r: Result) => r.items.filter((i) => !i.correct).map((i) => i.path);

    it("come back in order, each with exactly its slips wrong", async () => {
      const r = await graded();
      const wrong: Record<keyof typeof submissions, string[]> = {
        correct: [],
        offByPointOne: [GRADIENT],
        updateWrongSign: [UPDATE],
        transposedGradient: [GRADIENT],
        followsOwnGradient: [GRADIENT, UPDATE],
        slipInUpdate: [UPDATE],
        lossSign: [LOSS],
        wrongSignOwnGradient: [GRADIENT, UPDATE],
        oneSignFlipped: [GRADIENT, UPDATE],
        oneEntryTransposed: [GRADIENT, UPDATE],
      };
      for (const n of names) {
        expect(wrongItems(r[n]), n).toEqual(wrong[n]);
        expect(r[n].score, n).toBe(3 - wrong[n].length);
        expect(r[n].maxScore).toBe(3);
      }
    });

    it("one entry off by 0.1: the entry, expected and got", async () => {
      const g = item((await graded()).offByPointOne, GRADIENT);
      const e = g.entries[3];
      expect(e).toMatchObject({ row: 2, column: 2, submitted: 4.3, correct: false });
      expectClose(e.expected, 4.2, 1e-14);
      expect(g.entries.filter((x) => !x.correct)).toHaveLength(1);
      // 4.3 − 4.2 = 0.1 to 3 significant figures.
      expect(g.feedback).toEqual([`entry (2, 2): expected ${e.expected}, got 4.3 (off by 0.1)`]);
    });

    it("the update with the wrong sign, W + lr·∇L", async () => {
      expect(item((await graded()).updateWrongSign, UPDATE).feedback).toEqual([WRONG_SIGN]);
    });

    it("a transposed gradient", async () => {
      expect(item((await graded()).transposedGradient, GRADIENT).feedback).toEqual([
        "this is the transpose of the answer",
      ]);
    });

    it("an update that follows from the student's own wrong gradient", async () => {
      const r = (await graded()).followsOwnGradient;
      expect(item(r, GRADIENT).feedback).toEqual(["this is the transpose of the answer"]);
      expect(item(r, UPDATE).feedback).toEqual([FOLLOWS]);
    });

    it("a correct gradient with a wrong update", async () => {
      expect(item((await graded()).slipInUpdate, UPDATE).feedback).toEqual([SLIP_IN_UPDATE]);
    });

    it("a loss with the wrong sign", async () => {
      const l = item((await graded()).lossSign, LOSS);
      expect(l.feedback).toEqual(["the sign is wrong"]);
      expectClose(l.expected, 3.3, 1e-15);
      expect(l.submitted).toBe(-3.3);
    });

    it("the update with the wrong sign from the student's own (wrong) gradient", async () => {
      const r = (await graded()).wrongSignOwnGradient;
      expect(item(r, UPDATE).feedback).toEqual([
        "the update has the wrong sign: this is W + lr·∇L with your gradient; gradient descent takes W − lr·∇L",
      ]);
    });

    it("one entry with the wrong sign; one entry holding its transposed entry", async () => {
      const r = await graded();
      expect(item(r.oneSignFlipped, GRADIENT).feedback).toEqual(["wrong sign at (1, 2)"]);
      // (1, 2) holds 6, which is ∂L/∂W₂₁.
      expect(item(r.oneEntryTransposed, GRADIENT).feedback).toEqual(["(1, 2) holds the transposed entry"]);
      // No update submitted: graded as missing, not an error.
      expect(item(r.oneEntryTransposed, UPDATE).feedback).toEqual(["missing: this item was not submitted"]);
    });
  });

  it("reports an error too large for float64 as its largest number, never as null", async () => {
    // a = 1e308 answered -1e308: the difference overflows; b = 4e-323 answered 0.01: the ratio overflows.
    const r = await gradeOne({
      problem: { parameters: { w: 1e308, v: 4e-323 }, expression: "a = w * 1; b = v * 1; a + b" },
      submission: { values: { a: -1e308, b: 0.01 } },
    });
    expect(item(r, "/values/a").entries).toEqual([
      expect.objectContaining({ absError: Number.MAX_VALUE, relError: Number.MAX_VALUE / 1e308, correct: false }),
    ]);
    expect(item(r, "/values/b").entries).toEqual([
      expect.objectContaining({ absError: 0.01, relError: Number.MAX_VALUE, correct: false }),
    ]);
  });

  describe("items that cannot be compared are wrong, with a message, not a request error", () => {
    it("missing items, shape mismatches and non-numbers", async () => {
      const r = await gradeOne({
        problem: hw1.request,
        submission: { loss: [3.3, 1], gradients: { layer1: { weight: [[0.4, 6.2, 6]] } }, output: "1.5" },
        items: [LOSS, GRADIENT, "/output", "/inputGradient", UPDATE],
      });
      expect(r).toMatchObject({ score: 0, maxScore: 5 });
      expect(r.items.map((i) => [i.path, i.feedback])).toEqual([
        [LOSS, ["expected a 1×1 number, got 1×2"]],
        [GRADIENT, ["expected a 2×2 matrix, got 1×3"]],
        ["/output", ["not a number or a matrix of numbers"]],
        ["/inputGradient", ["missing: this item was not submitted"]],
        [UPDATE, ["missing: this item was not submitted"]],
      ]);
      for (const i of r.items) expect(i.entries).toEqual([]);
      // The exact value is still shown for a missing item.
      expectClose(item(r, "/inputGradient").expected, hw1.expected.inputGradient, 1e-14);
      expect(item(r, UPDATE)).not.toHaveProperty("submitted");
    });

    it("a transposed non-square gradient: the shapes are swapped", async () => {
      const f = fixture("columns-tanh-ce-indices");
      const g = rounded(f.expected.gradients.layer1.weight as Json) as number[][];
      expect([g.length, g[0].length]).toEqual([3, 2]);
      const r = await gradeOne({ problem: f.request, submission: { gradients: { layer1: { weight: T(g) } } } });
      expect(r.items[0]).toMatchObject({
        path: GRADIENT,
        correct: false,
        entries: [],
        feedback: ["this is the transpose of the answer: expected 3×2, got 2×3"],
      });
    });

    it("an unknown item path, listed or submitted, is wrong and names the items", async () => {
      const listed = await gradeOne({
        problem: hw1.request,
        submission: answer(3.3, G, updated),
        items: [LOSS, "/gradients/layer7/weight"],
      });
      expect(listed).toMatchObject({ score: 1, maxScore: 2 });
      const unknown = item(listed, "/gradients/layer7/weight");
      expect(unknown.correct).toBe(false);
      expect(unknown).not.toHaveProperty("expected");
      expect(unknown.feedback).toHaveLength(1);
      expect(unknown.feedback[0]).toMatch(/^there is no such item; the items are /);
      for (const path of [LOSS, "/output", GRADIENT, "/inputGradient", UPDATE]) {
        expect(unknown.feedback[0]).toContain(path);
      }
      // Without `items`, every submitted value is an item, a misspelt one too.
      const typo = await gradeOne({
        problem: hw1.request,
        submission: { loss: 3.3, gradient: { layer1: { weight: G } } },
      });
      expect(typo).toMatchObject({ score: 1, maxScore: 2 });
      expect(item(typo, "/gradient/layer1/weight").feedback[0]).toMatch(
        /^there is no such item; the items are .*\/gradients\/layer1\/weight/,
      );
    });
  });

  it("per-item weights change the score", async () => {
    const items = [
      { path: LOSS, weight: 3 },
      { path: GRADIENT, weight: 2 },
      { path: UPDATE, weight: 0.5 },
    ];
    const [good, offByPointOne] = await grade({
      problem: hw1.request,
      submissions: [
        answer(3.3, G, updated),
        answer(
          3.3,
          plus(
            G,
            [
              [0, 0],
              [0, 0.1],
            ],
            1,
          ),
          updated,
        ),
      ],
      items,
    });
    expect(good).toMatchObject({ score: 5.5, maxScore: 5.5 });
    expect(offByPointOne).toMatchObject({ score: 3.5, maxScore: 5.5 });
    expect(offByPointOne.items.map((i) => i.weight)).toEqual([3, 2, 0.5]);
    // Strings and plain weights mix; a string is worth 1.
    const [mixed] = await grade({
      problem: hw1.request,
      submissions: [answer(3.3, G, updated)],
      items: [LOSS, items[1]],
    });
    expect(mixed).toMatchObject({ score: 3, maxScore: 3 });
  });

  it("the digits tolerance: within half a unit in the last significant figure", async () => {
    const problem = hw1.request;
    const at12 = (v: number) =>
      answer(
        3.3,
        [
          [0.4, v],
          [6, 4.2],
        ],
        undefined,
      );
    const grades = async (tolerance: unknown, v: number) =>
      (await grade({ problem, submissions: [at12(v)], items: [GRADIENT], ...(tolerance ? { tolerance } : {}) }))[0]
        .score;
    // The default (rtol 1e-2) accepts 6.203 for 6.2; 4 significant figures want |error| ≤ 0.0005.
    expect(await grades(undefined, 6.203)).toBe(1);
    expect(await grades({ digits: 4 }, 6.203)).toBe(0);
    expect(await grades({ digits: 4 }, 6.2004)).toBe(1);
    // 2 significant figures: |error| ≤ 0.05, so 6.24 is right and 6.26 is not (the default takes 6.26: 0.06 ≤ 0.062).
    expect(await grades({ digits: 2 }, 6.24)).toBe(1);
    expect(await grades({ digits: 2 }, 6.26)).toBe(0);
    expect(await grades(undefined, 6.26)).toBe(1);
    // rtol and atol given explicitly.
    expect(await grades({ rtol: 0, atol: 0.01 }, 6.205)).toBe(1);
    expect(await grades({ rtol: 0, atol: 0.001 }, 6.205)).toBe(0);
  });

  describe("a problem that cannot be solved is the request's error, pointed at where the problem sits", () => {
    it("a shape mismatch in the problem's network, at /problem/network/…", async () => {
      const problem = { network: { layers: [{ weight: [[1, 2]] }], loss: "mse" }, input: [[1], [2], [3]], target: 1 };
      const res = await api.post("/v1/grade", { problem, submission: { loss: 1 } });
      expect(res.status).toBe(422);
      expect(res.body.type).toBe("urn:gradserve:problem:shape-mismatch");
      expect(res.body.errors[0].path).toBe("/problem/network/layers/0/weight");
    });

    it("an expression over MAX_EXPRESSION_LENGTH, at /problem/expression, as on every route", async () => {
      const names = Array.from({ length: 2000 }, (_, i) => `p${i}`);
      const expression = names.join("+");
      expect(expression.length).toBeGreaterThan(10_000);
      const parameters = Object.fromEntries(names.map((n) => [n, 0.5]));
      const graded = await api.post("/v1/grade", { problem: { parameters, expression }, submission: { loss: 1 } });
      const trained = await api.post("/v1/train", {
        parameters,
        expression,
        steps: 1,
        optimizer: { type: "sgd", lr: 0.1 },
      });
      const computed = await api.post("/v1/expressions", { parameters, expression });
      for (const res of [graded, trained, computed]) {
        expect(res.status).toBe(422);
        expect(res.body.type).toBe("urn:gradserve:problem:limit-exceeded");
        expect(res.body.detail).toContain("MAX_EXPRESSION_LENGTH");
      }
      expect(graded.body.errors[0].path).toBe("/problem/expression");
      expect(trained.body.errors[0].path).toBe("/expression");
    });
  });

  describe("a deployment's MAX_TRAIN_STEPS holds for a graded training problem too", () => {
    const limited = useApp({ limits: { trainSteps: 5 } });
    it("6 steps: 422 at /problem/steps", async () => {
      const problem = {
        parameters: { w: 0.5 },
        expression: "(w - 1)^2",
        steps: 6,
        optimizer: { type: "sgd", lr: 0.1 },
      };
      const res = await limited.post("/v1/grade", { problem, submission: { finalLoss: 0 } });
      expect(res.status).toBe(422);
      expect(res.body.detail).toContain("MAX_TRAIN_STEPS");
      expect(res.body.errors[0].path).toBe("/problem/steps");
      const ok = await limited.post("/v1/grade", { problem: { ...problem, steps: 5 }, submission: { finalLoss: 0 } });
      expect(ok.status).toBe(200);
    });
  });

  describe("?format=gradescope", () => {
    it("a single submission: one results.json object, a test per item", async () => {
      const res = await api.post("/v1/grade?format=gradescope", {
        problem: hw1.request,
        submission: answer(3.3, T(G), plus(W, G, 0.1)),
        items: [LOSS, { path: GRADIENT, weight: 2 }, { path: UPDATE, weight: 2 }],
      });
      expect(res.status).toBe(200);
      expect(GradescopeResult.safeParse(res.body).success).toBe(true);
      expect(res.body).toEqual({
        score: 1,
        tests: [
          { name: LOSS, score: 1, max_score: 1, output: "correct" },
          { name: GRADIENT, score: 0, max_score: 2, output: "this is the transpose of the answer" },
          { name: UPDATE, score: 0, max_score: 2, output: WRONG_SIGN },
        ],
      });
    });

    it("many submissions: an array, in order; several feedback lines joined by '; '", async () => {
      const res = await api.post("/v1/grade?format=gradescope", {
        problem: hw1.request,
        submissions: [
          answer(3.3, G, updated),
          answer(
            3.3,
            [
              [0.4, -6.2],
              [6, 4.3],
            ],
            undefined,
          ),
        ],
        items: [LOSS, GRADIENT],
      });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body)).toBe(true);
      expect(res.body).toHaveLength(2);
      for (const r of res.body) expect(GradescopeResult.safeParse(r).success).toBe(true);
      expect(res.body[0].score).toBe(2);
      expect(res.body[0].tests.map((t: { output: string }) => t.output)).toEqual(["correct", "correct"]);
      expect(res.body[1].score).toBe(1);
      expect(res.body[1].tests[1].output).toMatch(
        /^wrong sign at \(1, 2\); entry \(2, 2\): expected 4\.2\d*, got 4\.3 \(off by 0\.1\)$/,
      );
    });

    it("format=json is the default answer", async () => {
      const body = { problem: hw1.request, submission: answer(3.3, G, updated) };
      const plain = await api.post("/v1/grade", body);
      const json = await api.post("/v1/grade?format=json", body);
      expect(json.body).toStrictEqual(plain.body);
      expect(plain.body.results[0].score).toBe(3);
    });
  });

  describe("training problems", () => {
    // test/fixtures/optimizers.py: homework 1, 3 steps of Adam with lr 0.1 (PyTorch's documented update rule).
    const cases = JSON.parse(readFileSync(new URL("../fixtures/optimizers.json", import.meta.url), "utf8")).cases as {
      name: string;
      request: Record<string, unknown>;
      expected: { losses: number[]; finalLoss: number; network: { layers: { weight: number[][] }[] } };
    }[];
    const adam = cases.find((c) => c.name === "homework1-adam");
    const sgd = cases.find((c) => c.name === "homework1-sgd");
    if (!adam || !sgd) throw new Error("optimizer fixtures missing");

    it("the final network after 3 Adam steps, the losses and the final loss", async () => {
      const { expected } = adam;
      const [right, plainSgd] = await grade({
        problem: adam.request,
        submissions: [
          rounded({ network: expected.network, losses: expected.losses, finalLoss: expected.finalLoss }),
          rounded({ network: sgd.expected.network }),
        ],
      });
      expect(right.items.map((i) => i.path)).toEqual(["/network/layers/0/weight", "/losses", "/finalLoss"]);
      expect(right).toMatchObject({ score: 3, maxScore: 3 });
      expectClose(right.items[0].expected, expected.network.layers[0].weight, 1e-12, 0);
      // The losses are graded as one row of numbers.
      expectClose(right.items[1].expected, [expected.losses], 1e-12, 0);
      // Three steps of plain SGD instead: wrong.
      expect(plainSgd).toMatchObject({ score: 0, maxScore: 1 });
    });

    it("the optimizer's state is not an answer", async () => {
      const r = await gradeOne({
        problem: adam.request,
        submission: { state: { step: 3 } },
      });
      expect(r.items[0].path).toBe("/state/step");
      expect(r.items[0].feedback[0]).toMatch(/^there is no such item/);
    });
  });

  describe("expression problems with learningRate: updates related to gradients", () => {
    // f(a, b) = (a − 1)² + (b + 2)² at (3, −1.5): ∇f = (2·2, 2·0.5) = (4, 1); lr 0.1: (2.6, −1.6).
    const problem = { parameters: { a: 3, b: -1.5 }, expression: "(a - 1)^2 + (b + 2)^2", learningRate: 0.1 };

    it("right, wrong sign, following a wrong gradient, slip in the update", async () => {
      const [right, sign, follows, slip] = await grade({
        problem,
        submissions: [
          { output: 4.25, gradients: { a: 4, b: 1 }, updatedParameters: { a: 2.6, b: -1.6 } },
          { gradients: { a: 4, b: 1 }, updatedParameters: { a: 3.4, b: -1.4 } },
          // The 2 of the chain rule forgotten on a: ∂f/∂a = a − 1 = 2, update 3 − 0.2 = 2.8.
          { gradients: { a: 2, b: 1 }, updatedParameters: { a: 2.8, b: -1.6 } },
          { gradients: { a: 4 }, updatedParameters: { a: 2.96 } },
        ],
      });
      expect(right).toMatchObject({ score: 5, maxScore: 5 });
      expect(item(sign, "/updatedParameters/a").feedback).toEqual([WRONG_SIGN]);
      expect(item(sign, "/updatedParameters/b").feedback).toEqual([WRONG_SIGN]);
      expect(follows.items.filter((i) => !i.correct).map((i) => i.path)).toEqual([
        "/gradients/a",
        "/updatedParameters/a",
      ]);
      expect(item(follows, "/gradients/a").feedback).toEqual(["expected 4, got 2 (off by -2)"]);
      expect(item(follows, "/updatedParameters/a").feedback).toEqual([FOLLOWS]);
      expect(item(slip, "/updatedParameters/a").feedback).toEqual([SLIP_IN_UPDATE]);
    });

    it("a matrix parameter: the update with the wrong sign", async () => {
      const r = await gradeOne({
        problem: {
          parameters: { W },
          constants: { X: hw1.request.input, Y: hw1.request.target },
          expression: "sse(Y, W @ X)",
          learningRate: 0.1,
        },
        submission: { output: 3.3, gradients: { W: G }, updatedParameters: { W: plus(W, G, 0.1) } },
      });
      expect(r).toMatchObject({ score: 2, maxScore: 3 });
      expect(item(r, "/updatedParameters/W").feedback).toEqual([WRONG_SIGN]);
    });

    // A parameter sent as a flat list is compared in the form answers are read in. Here b = [−1, 3],
    // f = Σ(b + 2)², ∇f = (2, 10), b − 0.1∇f = (−1.2, 2); the student's b + 0.1∇f = (−0.8, 4) has the wrong sign.
    it("a list parameter: the update with the wrong sign", async () => {
      const r = await gradeOne({
        problem: { parameters: { b: [-1, 3] }, expression: "sum((b + 2)^2)", learningRate: 0.1 },
        submission: { gradients: { b: [2, 10] }, updatedParameters: { b: [-0.8, 4] } },
      });
      expect(item(r, "/gradients/b").correct).toBe(true);
      expect(item(r, "/updatedParameters/b").feedback).toEqual([WRONG_SIGN]);
    });

    // The same for a network's flat-list bias in the columns layout (an out×1 column, read back as a 1×out row).
    it("a network's flat-list bias (columns): the update with the wrong sign", async () => {
      const r = await gradeOne({
        problem: {
          network: {
            layers: [
              {
                weight: [
                  [1, 0],
                  [0, 1],
                ],
                bias: [0.5, -0.5],
              },
            ],
            loss: "sse",
          },
          input: [[1], [2]],
          target: [[0], [0]],
          learningRate: 0.1,
        },
        submission: { gradients: { layer1: { bias: [3, 3] } }, updatedNetwork: { layers: [{ bias: [0.8, -0.2] }] } },
      });
      expect(item(r, "/gradients/layer1/bias").correct).toBe(true);
      expect(item(r, "/updatedNetwork/layers/0/bias").feedback).toEqual([WRONG_SIGN]);
    });
  });

  describe("bad requests", () => {
    it.each([
      [
        "both submission and submissions",
        { problem: hw1.request, submission: { loss: 3.3 }, submissions: [{ loss: 3.3 }] },
      ],
      ["neither submission nor submissions", { problem: hw1.request }],
      ["no problem", { submission: { loss: 3.3 } }],
      ["an empty list of submissions", { problem: hw1.request, submissions: [] }],
      ["a tolerance of 0 digits", { problem: hw1.request, submission: { loss: 3.3 }, tolerance: { digits: 0 } }],
      ["an unknown format", { problem: hw1.request, submission: { loss: 3.3 } }, "?format=xml"],
    ])("%s → 400 problem+json", async (_name, body, query = "") => {
      const res = await api.post(`/v1/grade${query}`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe("urn:gradserve:problem:invalid-request");
    });
  });
});
