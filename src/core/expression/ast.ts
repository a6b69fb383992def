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
  return printAtMost(e, Number.POSITIVE_INFINITY);
}

/**
 * The start of print(e), at most `max` characters (and an ellipsis): it stops writing there, so labelling
 * every node of a long expression costs time in proportion to the labels, not to the expression's square.
 */
export function printAtMost(e: Expr, max: number): string {
  let out = "";
  // Once full, every call returns at once: no exception, whose stack trace would cost more than the label.
  let full = false;
  const write = (text: string) => {
    out += text;
    full = out.length > max;
  };
  const visit = (x: Expr): void => {
    if (full) return;
    switch (x.kind) {
      case "number":
        write(String(x.value));
        break;
      case "name":
        write(x.name);
        break;
      case "neg":
        write("-");
        group(x.operand);
        break;
      case "binary":
        group(x.left);
        write(` ${x.op} `);
        group(x.right);
        break;
      case "transpose":
        group(x.operand);
        write("'");
        break;
      case "call":
        write(`${x.fn}(`);
        x.args.forEach((a, i) => {
          if (i > 0) write(", ");
          visit(a);
        });
        // Strings cannot hold a quote or a line break (the grammar has no escapes), so they print verbatim.
        for (const [i, k] of x.keywords.entries()) {
          if (i > 0 || x.args.length > 0) write(", ");
          write(`${k.name}=${typeof k.value === "string" ? `"${k.value}"` : String(k.value)}`);
        }
        write(")");
        break;
    }
  };
  const group = (x: Expr): void => {
    if (full) return;
    const bare = x.kind === "name" || x.kind === "call" || x.kind === "number";
    if (!bare) write("(");
    visit(x);
    if (!bare && !full) write(")");
  };
  visit(e);
  return full ? `${out.slice(0, max - 3)}...` : out;
}

export function printProgram(statements: readonly Statement[]): string {
  return statements.map((s) => (s.kind === "assign" ? `${s.name} = ${print(s.value)}` : print(s.value))).join("\n");
}
