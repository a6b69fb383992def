/** Where a piece of expression text starts (1-based, as editors count). */
export interface At {
  readonly line: number;
  readonly column: number;
}

export type BinaryOperator = "+" | "-" | "*" | "/" | "@" | "^";

export type Expr =
  | { readonly kind: "number"; readonly value: number; readonly at: At }
  | { readonly kind: "name"; readonly name: string; readonly at: At }
  | { readonly kind: "neg"; readonly operand: Expr; readonly at: At }
  | { readonly kind: "binary"; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly at: At }
  | { readonly kind: "transpose"; readonly operand: Expr; readonly at: At }
  | {
      readonly kind: "call";
      readonly fn: string;
      readonly args: readonly Expr[];
      readonly keywords: readonly Keyword[];
      readonly at: At;
    };

/** name=value inside a call, for an op's attributes: sum(x, axis=0), mse(y, p, reduction="sum"). */
export interface Keyword {
  readonly name: string;
  readonly value: number | string | null;
  readonly at: At;
}

export type Statement =
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr; readonly at: At }
  | { readonly kind: "expr"; readonly value: Expr; readonly at: At };

/**
 * Text that parses back to the same tree: every compound operand parenthesized, numbers (never negative in a
 * parsed tree: a minus sign is a neg node) in JavaScript's shortest round-trip form.
 */
export function print(e: Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "name":
      return e.name;
    case "neg":
      return `-${group(e.operand)}`;
    case "binary":
      return `${group(e.left)} ${e.op} ${group(e.right)}`;
    case "transpose":
      return `${group(e.operand)}'`;
    case "call": {
      // Strings cannot hold a quote or a line break (the grammar has no escapes), so they print verbatim.
      const keywords = e.keywords.map(
        (k) => `${k.name}=${typeof k.value === "string" ? `"${k.value}"` : String(k.value)}`,
      );
      return `${e.fn}(${[...e.args.map(print), ...keywords].join(", ")})`;
    }
  }
}

function group(e: Expr): string {
  return e.kind === "name" || e.kind === "call" || e.kind === "number" ? print(e) : `(${print(e)})`;
}

export function printProgram(statements: readonly Statement[]): string {
  return statements.map((s) => (s.kind === "assign" ? `${s.name} = ${print(s.value)}` : print(s.value))).join("\n");
}
