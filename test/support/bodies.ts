/** Homework 1 as a /v1/gradients body without a learning rate: the request most tests start from. */
export { homework1Problem as homework1 } from "../../src/api/examples.js";

/**
 * A matrix with its first entry moved by i·1e-9: the i-th of a series of requests that pose the same problem at
 * the same cost but never the same text, so that the server's response cache (src/api/cache.ts) cannot answer.
 */
export const nudge = (m: readonly (readonly number[])[], i: number): number[][] =>
  m.map((row, r) => row.map((x, c) => (r === 0 && c === 0 ? x + i * 1e-9 : x)));
