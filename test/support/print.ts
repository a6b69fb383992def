import type { Expr, Statement } from "../../src/core/expression/ast.js";

/**
 * Text that parses back to the same tree: every compound operand parenthesized, numbers (never negative in a
 * parsed tree: a minus sign is a neg node) in JavaScript's shortest round-trip form. The tests' oracle for the
 * parser's precedence and associativity.
 */
export function print(x: Expr): string {
  switch (x.kind) {
    case "number":
      return String(x.value);
    case "name":
      return x.name;
    case "neg":
      return `-${group(x.operand)}`;
    case "binary":
      return `${group(x.left)} ${x.op} ${group(x.right)}`;
    case "transpose":
      return `${group(x.operand)}'`;
    case "call": {
      // Strings cannot hold a quote or a line break (the grammar has no escapes), so they print verbatim.
      const keywords = x.keywords.map(
        (k) => `${k.name}=${typeof k.value === "string" ? `"${k.value}"` : String(k.value)}`,
      );
      return `${x.fn}(${[...x.args.map(print), ...keywords].join(", ")})`;
    }
  }
}

function group(x: Expr): string {
  return x.kind === "name" || x.kind === "call" || x.kind === "number" ? print(x) : `(${print(x)})`;
}

export function printProgram(statements: readonly Statement[]): string {
  return statements.map((s) => (s.kind === "assign" ? `${s.name} = ${print(s.value)}` : print(s.value))).join("\n");
}
