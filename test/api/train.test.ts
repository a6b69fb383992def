import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TrainResponse } from "../../src/api/schemas/train.js";
import { useApp } from "../support/app.js";
import { homework1 as hw1 } from "../support/bodies.js";
import { expectClose } from "../support/close.js";
import { fixture as networkFixture } from "../support/fixtures.js";

interface Case {
  name: string;
  description: string;
  request: Record<string, unknown> & { steps: number; optimizer: { type: string } };
  expected: Record<string, unknown>;
}

// Written by test/fixtures/optimizers.py: PyTorch's update rules from its documentation's algorithm boxes in
// numpy, with hand-written gradients checked there by finite differences and first steps derived by hand.
const cases: Case[] = JSON.parse(readFileSync(new URL("../fixtures/optimizers.json", import.meta.url), "utf8")).cases;
const fixtureCase = (name: string): Case => {
  const found = cases.find((c) => c.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
};

type Matrix = number[][];

describe("POST /v1/train", () => {
  const api = useApp();
  const train = async (body: unknown) => {
    const res = await api.post("/v1/train", body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    return res.body;
  };

  describe("against the numpy reference (PyTorch's documented update rules)", () => {
    it("has every optimizer on every problem", () => {
      const problems = ["homework1", "two-layer-rows-mse", "expression"];
      for (const problem of problems) {
        for (const type of ["sgd", "adam", "rmsprop", "adagrad"]) {
          const found = cases.filter((c) => c.name.startsWith(`${problem}-`) && c.request.optimizer.type === type);
          expect(found.length, `${problem} ${type}`).toBeGreaterThanOrEqual(2);
        }
      }
      expect(cases.length).toBe(36);
    });

    // The reference follows the documentation's formulas (m̂ = m/(1-β1^t), …) while the service follows
    // torch's code (step size lr/(1-β1^t), lerp, addcdiv); the two round differently, by a few ulps per step,
    // so agreement is to 1e-12 relative, with no absolute floor: a reference zero must come back as zero.
    it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const body = await train(c.request);
      expect(TrainResponse.safeParse(body).success).toBe(true);
      expectClose(body, c.expected, 1e-12, 0);
    });
  });

  it("omitted settings are PyTorch's documented defaults", async () => {
    // torch.optim: SGD(lr=1e-3, momentum=0, dampening=0, nesterov=False, weight_decay=0); Adam(lr=1e-3,
    // betas=(0.9, 0.999), eps=1e-8); RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0, centered=False);
    // Adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10).
    const explicit = [
      { type: "sgd", lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
      { type: "adam", lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
      { type: "rmsprop", lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 },
      { type: "adagrad", lr: 1e-2, lrDecay: 0, eps: 1e-10, initialAccumulatorValue: 0, weightDecay: 0 },
    ];
    for (const optimizer of explicit) {
      const given = await train({ ...hw1, steps: 3, optimizer });
      const defaulted = await train({ ...hw1, steps: 3, optimizer: { type: optimizer.type } });
      expect(defaulted, optimizer.type).toStrictEqual(given);
    }
  });

  describe("one step of plain SGD is /v1/gradients' or /v1/expressions' update, to the last bit", () => {
    for (const name of ["homework1-linear-sse", "homework2-sigmoid-chain-bce"]) {
      it(name, async () => {
        const { learningRate, ...problem } = networkFixture(name).request;
        expect(learningRate).toBe(0.1);
        const gradients = (await api.post("/v1/gradients", { ...problem, learningRate })).body;
        const trained = await train({ ...problem, steps: 1, optimizer: { type: "sgd", lr: learningRate } });
        expect(trained.network).toStrictEqual(gradients.updatedNetwork);
        expect(trained.losses).toStrictEqual([gradients.loss]);
      });
    }

    it.each([
      ["f(a, b) = (a − 1)² + (b + 2)²", { parameters: { a: 3, b: -1.5 }, expression: "(a - 1)^2 + (b + 2)^2" }],
      [
        "homework 1 as an expression, with a list parameter",
        {
          parameters: { W: hw1.network.layers[0].weight, v: [0.5, -0.25] },
          constants: { X: hw1.input, Y: hw1.target },
          expression: "sse(Y, W @ X) + sum(v^2)",
        },
      ],
    ])("%s", async (_name, problem) => {
      const expressions = (await api.post("/v1/expressions", { ...problem, learningRate: 0.1 })).body;
      const trained = await train({ ...problem, steps: 1, optimizer: { type: "sgd", lr: 0.1 } });
      expect(trained.parameters).toStrictEqual(expressions.updatedParameters);
      expect(trained.losses).toStrictEqual([expressions.output]);
    });
  });

  describe("2 steps, then 1 more from the returned state, is 3 steps at once, bit for bit", () => {
    const continued = cases.filter((c) => !c.name.startsWith("two-layer"));
    it.each(continued.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const three = await train({ ...c.request, steps: 3 });
      const two = await train({ ...c.request, steps: 2 });
      const { parameters, network } = two;
      const one = await train({
        ...c.request,
        ...(network ? { network } : { parameters }),
        steps: 1,
        state: two.state,
      });
      expect(two.state.step).toBe(2);
      expect(one.state).toStrictEqual(three.state);
      expect(one.network).toStrictEqual(three.network);
      expect(one.parameters).toStrictEqual(three.parameters);
      expect([...two.losses, ...one.losses]).toStrictEqual(three.losses);
      expect(one.finalLoss).toBe(three.finalLoss);
    });

    it("on the two-layer network with flat-list and matrix biases, for every optimizer", async () => {
      for (const c of cases.filter((k) => k.name.startsWith("two-layer"))) {
        const three = await train({ ...c.request, steps: 3 });
        const two = await train({ ...c.request, steps: 2 });
        const one = await train({ ...c.request, network: two.network, steps: 1, state: two.state });
        expect({ ...one, losses: [...two.losses, ...one.losses] }, c.name).toStrictEqual(three);
      }
    });
  });

  it("history holds the network after each step, the last one the returned network", async () => {
    const c = fixtureCase("two-layer-rows-mse-adam");
    const body = await train({ ...c.request, history: true });
    expect(body.history).toHaveLength(c.request.steps);
    expect(body.history.at(-1)).toStrictEqual(body.network);
    for (let k = 1; k < c.request.steps; k++) {
      const shorter = await train({ ...c.request, steps: k });
      expect(body.history[k - 1], `after step ${k}`).toStrictEqual(shorter.network);
    }
    const expression = fixtureCase("expression-sgd-momentum");
    const e = await train({ ...expression.request, history: true });
    expect(e.history).toHaveLength(5);
    expect(e.history.at(-1)).toStrictEqual(e.parameters);
    // First step of SGD with momentum from (3, -1.5), gradient (4, 1): the buffer is the gradient, a plain step.
    expectClose(e.history[0], { a: 2.6, b: -1.6 }, 1e-15);
    const without = await train(expression.request);
    expect(without).not.toHaveProperty("history");
  });

  describe("mini-batches in the data's order", () => {
    it("batch size 1 on homework 1: samples are columns; the first two losses by hand", async () => {
      // Step 1, sample 1: x = (0, 3), y = (0.5, 1). Wx = (1.5, 1.2), r = y − Wx = (−1, −0.2), loss 1 + 0.04 = 1.04.
      //   ∇W = −2 r xᵀ = [[0, 6], [0, 1.2]], W ← W − 0.1 ∇W = [[0.3, −0.1], [−0.2, 0.28]].
      // Step 2, sample 2: x = (2, 1), y = (1, −1.5). Wx = (0.6 − 0.1, −0.4 + 0.28) = (0.5, −0.12),
      //   r = (0.5, −1.38), loss 0.25 + 1.9044 = 2.1544.
      const body = await train({
        ...hw1,
        steps: 2,
        batch: { size: 1 },
        optimizer: { type: "sgd", lr: 0.1 },
        history: true,
      });
      expectClose(body.losses, [1.04, 2.1544], 1e-12, 0);
      expectClose(
        body.history[0].layers[0].weight,
        [
          [0.3, -0.1],
          [-0.2, 0.28],
        ],
        1e-12,
        0,
      );
      // Not the full-batch losses (3.3 first).
      expect(body.losses[0]).not.toBeCloseTo(3.3);
    });

    it("a batch size that does not divide the samples leaves a shorter last batch, then cycles", async () => {
      // One output, W = [0, 0], samples (columns) x = (1,0), (0,1), (1,1) with y = 1, 2, 4; sse, lr 0.25.
      // Every number below is a short dyadic fraction, so float64 computes it exactly.
      // Step 1, batch {1, 2}: Wx = (0, 0), r = (1, 2), loss 5, ∇W = −2 r Xᵀ = (−2, −4), W = (0.5, 1).
      // Step 2, batch {3} (the short one): Wx = 1.5, r = 2.5, loss 6.25, ∇W = (−5, −5), W = (1.75, 2.25).
      // Step 3, batch {1, 2} again: Wx = (1.75, 2.25), r = (−0.75, −0.25), loss 0.5625 + 0.0625 = 0.625,
      //   ∇W = (1.5, 0.5), W = (1.375, 2.125).
      // Final loss on all data: r = (1 − 1.375, 2 − 2.125, 4 − 3.5) → 0.140625 + 0.015625 + 0.25 = 0.40625.
      const body = await train({
        network: { layers: [{ weight: [[0, 0]] }], loss: "sse" },
        input: [
          [1, 0, 1],
          [0, 1, 1],
        ],
        target: [[1, 2, 4]],
        steps: 3,
        batch: { size: 2 },
        optimizer: { type: "sgd", lr: 0.25 },
      });
      expect(body.losses).toStrictEqual([5, 6.25, 0.625]);
      expect(body.network.layers[0].weight).toStrictEqual([[1.375, 2.125]]);
      expect(body.finalLoss).toBe(0.40625);
    });

    it("a batch at least as large as the data is the full batch", async () => {
      const request = { ...hw1, steps: 3, optimizer: { type: "adam", lr: 0.1 } };
      expect(await train({ ...request, batch: { size: 2 } })).toStrictEqual(await train(request));
      expect(await train({ ...request, batch: { size: 7 } })).toStrictEqual(await train(request));
    });

    it("an expression's batch.over names its data constants (samples are rows)", async () => {
      // f(w) = Σ (w x − y)² over the batch; x = (1, 2, 3), y = (2, 4, 6), w = 0, lr 0.125; dyadic, exact.
      // Step 1 (x 1, y 2): loss 4, f' = 2(0 − 2)·1 = −4, w = 0.5.
      // Step 2 (x 2, y 4): loss (1 − 4)² = 9, f' = 2(−3)·2 = −12, w = 0.5 + 1.5 = 2.
      // Step 3 (x 3, y 6): loss 0, w stays 2; on all data w = 2 fits y = 2x: final loss 0.
      const body = await train({
        parameters: { w: 0 },
        constants: { x: [1, 2, 3], y: [2, 4, 6] },
        expression: "sum((w * x - y)^2)",
        steps: 3,
        batch: { size: 1, over: ["x", "y"] },
        optimizer: { type: "sgd", lr: 0.125 },
      });
      expect(body.losses).toStrictEqual([4, 9, 0]);
      expect(body.parameters).toStrictEqual({ w: 2 });
      expect(body.finalLoss).toBe(0);
    });
    describe("continuing a mini-batch run with its state", () => {
      // f(w) = Σ (w x − y)² over the batch; x = (1, 2, 3), y = (2, 4, 7), w = 0, lr 0.125, batches of 1; exact dyadics.
      // Step 1 (x 1, y 2): loss 4, f' = −4, w = 0.5. Step 2 (x 2, y 4): loss 9, f' = −12, w = 2.
      // Step 3 (x 3, y 7): r = 6 − 7 = −1, loss 1, f' = 2(−1)·3 = −6, w = 2.75.
      // Final loss: 0.75² + 1.5² + 1.25² = 0.5625 + 2.25 + 1.5625 = 4.375.
      const request = {
        parameters: { w: 0 },
        constants: { x: [1, 2, 3], y: [2, 4, 7] },
        expression: "sum((w * x - y)^2)",
        batch: { size: 1, over: ["x", "y"] },
        optimizer: { type: "sgd", lr: 0.125 },
      };

      it("3 steps at once go through the batches in order", async () => {
        const body = await train({ ...request, steps: 3 });
        expect(body.losses).toStrictEqual([4, 9, 1]);
        expect(body.parameters).toStrictEqual({ w: 2.75 });
        expect(body.finalLoss).toBe(4.375);
      });

      // A run continued with `state` carries on with the next batch: the third step (state.step 2) uses the third
      // sample (x 3, y 7): loss 1, w = 2.75, as README promises ("step k uses batch k mod n").
      it("2 steps, then 1 more with the state, resume at the third batch", async () => {
        const two = await train({ ...request, steps: 2 });
        expect(two.losses).toStrictEqual([4, 9]);
        expect(two.parameters).toStrictEqual({ w: 2 });
        const one = await train({ ...request, parameters: two.parameters, state: two.state, steps: 1 });
        expect(one.losses).toStrictEqual([1]);
        expect(one.parameters).toStrictEqual({ w: 2.75 });
      });
    });
  });

  describe("errors", () => {
    const expression = {
      parameters: { w: 0 },
      constants: { x: [1, 2, 3], y: [2, 4, 6] },
      expression: "sum((w * x - y)^2)",
    };
    const failing = async (body: unknown, status: number, type: string) => {
      const res = await api.post("/v1/train", body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe(`urn:gradserve:problem:${type}`);
      return res.body;
    };

    it("batch over a parameter or an unknown name, or an expression's batch without over", async () => {
      const sgd = { steps: 2, optimizer: { type: "sgd", lr: 0.1 } };
      const parameter = await failing({ ...expression, ...sgd, batch: { size: 1, over: ["w"] } }, 400, "unknown-name");
      expect(parameter.detail).toMatch(/'w' is not one/);
      const unknown = await failing(
        { ...expression, ...sgd, batch: { size: 1, over: ["x", "z"] } },
        400,
        "unknown-name",
      );
      expect(unknown.detail).toMatch(/'z' is not one/);
      const none = await failing({ ...expression, ...sgd, batch: { size: 1 } }, 400, "unknown-name");
      expect(none.errors[0].path).toBe("/batch/over");
    });

    it("batch over constants with different sample counts", async () => {
      const body = await failing(
        {
          ...expression,
          constants: { x: [1, 2, 3], y: [2, 4] },
          expression: "sum(w * x) + sum(y)",
          steps: 1,
          batch: { size: 1, over: ["x", "y"] },
          optimizer: { type: "sgd" },
        },
        422,
        "shape-mismatch",
      );
      expect(body.detail).toMatch(/'y' has 2 rows and 'x' has 3/);
    });

    it("a state for another optimizer", async () => {
      const body = await failing(
        { ...hw1, steps: 1, optimizer: { type: "sgd", lr: 0.1 }, state: { type: "adam", step: 1, buffers: {} } },
        422,
        "shape-mismatch",
      );
      expect(body.errors[0]).toEqual({
        path: "/state/type",
        message: "the state is for adam, but the optimizer is sgd",
      });
    });

    it("a buffer of the wrong shape, an unknown buffer, a buffer for no parameter", async () => {
      const adam = { ...hw1, steps: 1, optimizer: { type: "adam", lr: 0.1 } };
      const state = (buffers: unknown) => ({ ...adam, state: { type: "adam", step: 1, buffers } });
      const shape = await failing(state({ "layer1.weight": { expAvg: [[1, 2]] } }), 422, "shape-mismatch");
      expect(shape.errors[0]).toEqual({
        path: "/state/buffers/layer1.weight/expAvg",
        message: "expAvg of layer1.weight is 1×2, but layer1.weight is 2×2",
      });
      const name = await failing(state({ "layer1.weight": { momentumBuffer: hw1.input } }), 422, "shape-mismatch");
      expect(name.errors[0].path).toBe("/state/buffers/layer1.weight/momentumBuffer");
      expect(name.detail).toMatch(/adam keeps no buffer 'momentumBuffer'; it keeps expAvg, expAvgSq/);
      const parameter = await failing(state({ "layer9.weight": { expAvg: hw1.input } }), 422, "shape-mismatch");
      expect(parameter.errors[0].path).toBe("/state/buffers/layer9.weight");
      expect(parameter.detail).toMatch(/'layer9.weight' is not a parameter; parameters: layer1.weight/);
    });

    it("nesterov without momentum, or with dampening", async () => {
      for (const optimizer of [
        { type: "sgd", lr: 0.1, nesterov: true },
        { type: "sgd", lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 },
      ]) {
        const body = await failing({ ...hw1, steps: 1, optimizer }, 400, "invalid-request");
        expect(body.errors[0].path).toBe("/optimizer/nesterov");
      }
    });

    it("an update that overflows float64 names the parameter", async () => {
      const body = await failing({ ...hw1, steps: 1, optimizer: { type: "sgd", lr: 1e308 } }, 422, "non-finite");
      expect(body.errors[0]).toEqual({
        path: "/network/layers/0/weight",
        message: "step 1 of sgd: the updated layer1.weight overflowed float64",
      });
    });

    it("settings outside their ranges", async () => {
      await failing({ ...hw1, steps: 1, optimizer: { type: "adam", betas: [0.9, 1] } }, 400, "invalid-request");
      await failing({ ...hw1, steps: 1, optimizer: { type: "sgd", lr: 0 } }, 400, "invalid-request");
      await failing({ ...hw1, steps: 0, optimizer: { type: "sgd" } }, 400, "invalid-request");
      await failing({ ...hw1, steps: 1, optimizer: { type: "sgd", betas: [0.9, 0.99] } }, 400, "invalid-request");
    });
  });

  describe("a long run reaches the least-squares solution", () => {
    // Columns layout, Ŷ = W X. X Xᵀ = [[1+0+1+4, 0+0+1−2], [−1, 0+1+1+1]] = [[6, −1], [−1, 3]], det 17,
    // (X Xᵀ)⁻¹ = [[3, 1], [1, 6]] / 17. Y Xᵀ: row 1 (1 + 2.5 + 1, 2 + 2.5 − 0.5) = (4.5, 4),
    // row 2 (−1 + 6, 1 − 1 − 3) = (5, −3). W* = Y Xᵀ (X Xᵀ)⁻¹ = [[13.5 + 4, 4.5 + 24], [15 − 3, 5 − 18]] / 17.
    // The Hessian of sse is 2 X Xᵀ (eigenvalues (9 ± √13)/2 · 2 ≈ 12.6, 5.4), of mse 2 X Xᵀ / 8: SGD at
    // lr 0.1 (sse) or 0.5 (mse) contracts the error by at most |1 − 0.1·5.4| ≈ 0.46 per step.
    const X = [
      [1, 0, 1, 2],
      [0, 1, 1, -1],
    ];
    const Y = [
      [1, 2, 2.5, 0.5],
      [0, 1, -1, 3],
    ];
    const inverse = [
      [3 / 17, 1 / 17],
      [1 / 17, 6 / 17],
    ];
    const YXt = [
      [4.5, 4],
      [5, -3],
    ];
    const best: Matrix = YXt.map((row) => [0, 1].map((j) => row[0] * inverse[0][j] + row[1] * inverse[1][j]));
    const residualSquares = Y.flatMap((row, i) =>
      row.map((y, s) => (best[i][0] * X[0][s] + best[i][1] * X[1][s] - y) ** 2),
    ).reduce((a, b) => a + b, 0);

    it("the closed form is what the comment says", () => {
      expectClose(
        best,
        [
          [17.5 / 17, 28.5 / 17],
          [12 / 17, -13 / 17],
        ],
        1e-15,
      );
    });

    it.each([
      ["sgd, mse", "mse", { type: "sgd", lr: 0.5 }, residualSquares / 8],
      ["sgd, sse", "sse", { type: "sgd", lr: 0.1 }, residualSquares],
      ["adam, mse", "mse", { type: "adam", lr: 0.01 }, residualSquares / 8],
    ])("%s: 2000 steps", async (_name, loss, optimizer, minimum) => {
      const body = await train({
        network: {
          layers: [
            {
              weight: [
                [0, 0],
                [0, 0],
              ],
            },
          ],
          loss,
          layout: "columns",
        },
        input: X,
        target: Y,
        steps: 2000,
        optimizer,
      });
      const W: Matrix = body.network.layers[0].weight;
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) expect(Math.abs(W[i][j] - best[i][j]), `W[${i}][${j}]`).toBeLessThan(1e-8);
      }
      // At the minimum the loss is flat: an error of 1e-8 in W changes it by ~1e-16.
      expectClose(body.finalLoss, minimum, 1e-12, 0);
      expect(body.losses).toHaveLength(2000);
    });
  });

  it("the same request twice gives the identical response", async () => {
    const c = fixtureCase("two-layer-rows-mse-rmsprop-all");
    const request = { ...c.request, batch: { size: 3 }, history: true, steps: 5 };
    const first = await api.post("/v1/train", request);
    const second = await api.post("/v1/train", request);
    expect(first.status).toBe(200);
    expect(second.text).toBe(first.text);
  });
});

describe("POST /v1/train with MAX_TRAIN_STEPS 5", () => {
  const api = useApp({ limits: { trainSteps: 5 } });

  it("takes 5 steps and refuses 6", async () => {
    const ok = await api.post("/v1/train", { ...hw1, steps: 5, optimizer: { type: "sgd", lr: 0.01 } });
    expect(ok.status).toBe(200);
    expect(ok.body.losses).toHaveLength(5);
    const res = await api.post("/v1/train", { ...hw1, steps: 6, optimizer: { type: "sgd", lr: 0.01 } });
    expect(res.status).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe("urn:gradserve:problem:limit-exceeded");
    expect(res.body.detail).toMatch(/MAX_TRAIN_STEPS/);
    expect(res.body.errors[0]).toEqual({
      path: "/steps",
      message: "steps is 6, over the limit of 5 (MAX_TRAIN_STEPS)",
    });
  });
});
