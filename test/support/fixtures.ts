import { readFileSync } from "node:fs";
import { type SolvedNetwork, solveNetworkRequest } from "../../src/api/networks.js";

type Value = number | number[] | number[][];

export interface Fixture {
  readonly name: string;
  readonly description: string;
  readonly request: Record<string, unknown> & { network: { layout: "columns" | "rows"; layers: unknown[] } };
  readonly expected: {
    readonly loss: number;
    readonly output: Value;
    readonly forward: readonly { name: string; preActivation: Value; activation: Value }[];
    readonly gradients: Readonly<Record<string, { weight: Value; bias?: Value }>>;
    readonly inputGradient: Value;
  };
}

/**
 * The reference cases written by test/fixtures/reference.py: hand-written numpy backpropagation, checked there
 * against the homework's printed answers and by finite differences. The independent source of expected numbers.
 */
export const fixtures: readonly Fixture[] = JSON.parse(
  readFileSync(new URL("../fixtures/networks.json", import.meta.url), "utf8"),
).cases;

export function fixture(name: string): Fixture {
  const found = fixtures.find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

/** A fixture's request through the service's own decoding and compilation (not what these tests examine). */
export function solveFixture(f: Fixture | Record<string, unknown>): SolvedNetwork {
  const request = "request" in f ? f.request : f;
  return solveNetworkRequest(request as unknown as Parameters<typeof solveNetworkRequest>[0]);
}

/** A fixture value (number, flat list or matrix) as its entries in row-major order. */
export function flat(v: Value): number[] {
  return [v].flat(2);
}

/** Homework 2's and 3's scalar chain, read from the fixture: a_l, z_l and dL/dw_l for l = 1, 2, 3. */
export function scalarChain(f: Fixture) {
  const a = f.expected.forward.map((l) => l.activation as number);
  const z = f.expected.forward.map((l) => l.preActivation as number);
  const dw = ["layer1", "layer2", "layer3"].map((l) => f.expected.gradients[l].weight as number);
  const network = f.request.network as { layers: { weight: number }[] };
  const w = network.layers.map((l) => l.weight);
  return { a, z, dw, w, x: f.request.input as number, y: f.request.target as number };
}
