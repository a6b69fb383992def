import { expect } from "vitest";
import type { Bindings } from "../../src/core/compile/expression.js";
import { CoreError } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";

/** The CoreError that `f` throws; fails the test if it throws nothing or something else. */
export function coreError(f: () => unknown): CoreError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CoreError);
    return e as CoreError;
  }
  return expect.fail("expected a CoreError");
}

/** An expression's parameters and constants by name. */
export function bindings(parameters: Record<string, Tensor>, constants: Record<string, Tensor> = {}): Bindings {
  return { parameters: new Map(Object.entries(parameters)), constants: new Map(Object.entries(constants)) };
}
