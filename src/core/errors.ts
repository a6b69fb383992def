/**
 * Where a node came from in the client's request, so that an error can point at it:
 * a JSON path for structured input, a line and column for expression text.
 */
export interface Origin {
  readonly path?: readonly (string | number)[];
  readonly position?: { readonly line: number; readonly column: number };
}

/** The 1-based line and column of an offset into a text, as Origin.position gives them. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

export type CoreErrorKind =
  /** Expression text that does not parse. */
  | "syntax"
  /** Operand shapes that an op cannot combine. */
  | "shape"
  /** A value outside an op's domain (bce on a probability above 1, a class index out of range). */
  | "domain"
  /** An op, attribute or name the core does not know. */
  | "unknown"
  /** A graph that is not a computation: a cycle, an id used twice. */
  | "structure"
  /** A problem too large or too deep for the service to take on. */
  | "limit"
  /** A forward value or gradient that overflowed to ±Infinity or became NaN. */
  | "non-finite";

/** Every failure the core reports: always about the client's problem, never an internal fault. */
export class CoreError extends Error {
  constructor(
    readonly kind: CoreErrorKind,
    message: string,
    readonly origin?: Origin,
  ) {
    super(message);
    this.name = "CoreError";
  }
}
