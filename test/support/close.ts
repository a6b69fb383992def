import { expect } from "vitest";

/**
 * Asserts that two JSON values have the same structure (keys, array lengths, strings) and that every number
 * agrees to a relative tolerance, with an absolute floor for values that are exactly zero.
 */
export function expectClose(actual: unknown, expected: unknown, rel = 1e-9, abs = 1e-12, path = ""): void {
  if (typeof expected === "number") {
    expect(typeof actual, `${path} should be a number`).toBe("number");
    const a = actual as number;
    const tolerance = Math.max(rel * Math.abs(expected), abs);
    if (!(Math.abs(a - expected) <= tolerance)) {
      expect.fail(`${path || "value"}: got ${a}, expected ${expected} (tolerance ${tolerance})`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} should be an array`).toBe(true);
    expect((actual as unknown[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((e, i) => {
      expectClose((actual as unknown[])[i], e, rel, abs, `${path}/${i}`);
    });
    return;
  }
  if (expected !== null && typeof expected === "object") {
    expect(actual !== null && typeof actual === "object", `${path} should be an object`).toBe(true);
    expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) {
      expectClose((actual as Record<string, unknown>)[k], e, rel, abs, `${path}/${k}`);
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}
