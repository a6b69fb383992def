import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GradientsResponse } from "../../src/api/schemas/gradients.js";
import { useApp } from "../support/app.js";
import { expectClose } from "../support/close.js";

interface Fixture {
  name: string;
  description: string;
  request: unknown;
  expected: Record<string, unknown>;
}

// Written by test/fixtures/reference.py: hand-written numpy backprop, checked there by finite differences.
const fixtures: Fixture[] = JSON.parse(
  readFileSync(new URL("../fixtures/networks.json", import.meta.url), "utf8"),
).cases;

describe("POST /v1/gradients against the numpy reference", () => {
  const api = useApp();

  it("has the reference cases", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s", async (_name, fixture) => {
    const res = await api.post("/v1/gradients", fixture.request);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const { diagnostics, ...computed } = res.body;
    expectClose(computed, fixture.expected);
    expect(GradientsResponse.safeParse(res.body).success).toBe(true);
    // The diagnostics' norms are those of the reference gradients, layer by layer.
    const norm = (m: number | number[] | number[][]) => Math.hypot(...[m].flat(2));
    const expectedNorms = Object.entries(fixture.expected.gradients as Record<string, { weight: number[][] }>).map(
      ([layer, g]) => [`${layer}.weight`, norm(g.weight)],
    );
    const reported = new Map(
      diagnostics.parameters.map((p: { parameter: string; norm: number }) => [p.parameter, p.norm]),
    );
    for (const [name, value] of expectedNorms) expectClose(reported.get(name), value);
  });
});

/** The figures printed in the homework statement, rounded there; ours must round to them. */
describe("the homework's printed answers", () => {
  const api = useApp();
  const byName = (name: string) => fixtures.find((f) => f.name === name)?.request;
  const roundsTo = (value: number, printed: number, digits: number) =>
    expect(Number(value.toPrecision(digits)), `${value} rounds to ${printed}`).toBe(printed);

  it("problem 1: WX, L, dL/dW and the updated W", async () => {
    const { body } = await api.post("/v1/gradients", byName("homework1-linear-sse"));
    expectClose(
      body.output,
      [
        [1.5, 1.1],
        [1.2, 0],
      ],
      1e-15,
    );
    expectClose(body.loss, 3.3, 1e-15);
    expectClose(
      body.gradients.layer1.weight,
      [
        [0.4, 6.2],
        [6.0, 4.2],
      ],
      1e-14,
    );
    expectClose(
      body.updatedNetwork.layers[0].weight,
      [
        [0.26, -0.12],
        [-0.8, -0.02],
      ],
      1e-13,
    );
  });

  it("problem 2: activations and gradients of the sigmoid chain with bce", async () => {
    const { body } = await api.post("/v1/gradients", byName("homework2-sigmoid-chain-bce"));
    [0.5392938, 0.4851738, 0.5934957].forEach((a, i) => {
      roundsTo(body.forward[i].activation, a, 7);
    });
    roundsTo(body.gradients.layer3.weight, -0.1972252, 7);
    roundsTo(body.gradients.layer2.weight, -0.0427113, 6);
    roundsTo(body.gradients.layer1.weight, 0.00136364, 6);
  });

  it("problem 3: regression with y = 1 and y = 128", async () => {
    const y1 = (await api.post("/v1/gradients", byName("homework3-regression-y1"))).body;
    roundsTo(y1.output, 0.3784355, 7);
    roundsTo(y1.gradients.layer3.weight, -0.6031335, 7);
    roundsTo(y1.gradients.layer2.weight, -0.1306153, 7);
    roundsTo(y1.gradients.layer1.weight, 0.00417015, 6);
    const y128 = (await api.post("/v1/gradients", byName("homework3-regression-y128"))).body;
    roundsTo(y128.gradients.layer3.weight, -123.83727, 8);
    roundsTo(y128.gradients.layer2.weight, -26.818351, 8);
    roundsTo(y128.gradients.layer1.weight, 0.85622787, 8);
  });

  it("gives a weight sent as a plain number back as a plain number", async () => {
    const { body } = await api.post("/v1/gradients", byName("homework2-sigmoid-chain-bce"));
    expect(typeof body.updatedNetwork.layers[0].weight).toBe("number");
    expect(typeof body.gradients.layer1.weight).toBe("number");
  });

  it("accepts its own updatedNetwork for the next step", async () => {
    const request = byName("homework1-linear-sse") as Record<string, unknown>;
    const first = (await api.post("/v1/gradients", request)).body;
    const second = await api.post("/v1/gradients", { ...request, network: first.updatedNetwork });
    expect(second.status).toBe(200);
    // One more step of W ← W - 0.1·(-2(Y - WX)Xᵀ) from the updated W, worked by hand:
    // W1 = [[0.26, -0.12], [-0.8, -0.02]]; W1·X = [[-0.36, 0.4], [-0.06, -1.62]];
    // Y - W1·X = [[0.86, 0.6], [1.06, 0.12]]; (Y - W1X)Xᵀ = [[1.2, 3.18], [0.24, 3.3]];
    // -2(Y - W1X)Xᵀ = [[-2.4, -6.36], [-0.48, -6.6]].
    expectClose(
      second.body.gradients.layer1.weight,
      [
        [-2.4, -6.36],
        [-0.48, -6.6],
      ],
      1e-12,
    );
  });
});
