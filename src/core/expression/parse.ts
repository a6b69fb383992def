import peggy from "peggy";
import { CoreError } from "../errors.js";
import type { Statement } from "./ast.js";
import { checkNesting } from "./nesting.js";

/**
 * The expression language. Precedence from loosest to tightest: + -, then * / @ (left-associative, as in
 * NumPy), then unary minus, then ^ and ** (right-associative, so -x^2 = -(x^2) and 2^-1 = 0.5), then the
 * transpose quote x'. Statements are separated by newlines or semicolons; # starts a comment.
 */
const grammar = String.raw`
Program
  = Gap head:Statement tail:(_ Separator Gap @Statement)* Gap End { return [head, ...tail]; }

Statement
  = name:Identifier _ "=" !"=" _ value:Expr { return { kind: "assign", name, value, at: at(location()) }; }
  / value:Expr { return { kind: "expr", value, at: at(location()) }; }

Expr
  = head:Product tail:(_ @AddOperator _ @Product)* { return fold(head, tail); }

Product
  = head:Unary tail:(_ @MulOperator _ @Unary)* { return fold(head, tail); }

Unary
  = "-" _ operand:Unary { return { kind: "neg", operand, at: at(location()), span: span(location()) }; }
  / "+" _ @Unary
  / Power

Power
  = base:Postfix tail:(_ @PowOperator _ @Unary)?
    { return tail ? { kind: "binary", op: "^", left: base, right: tail[1], at: tail[0].at, span: span(location()) } : base; }

Postfix
  = operand:Primary quotes:(_ "'" { return location(); })*
    {
      return quotes.reduce(
        (e, q) => ({ kind: "transpose", operand: e, at: at(q), span: { start: operand.span.start, end: q.end.offset } }),
        operand,
      );
    }

Primary
  = Number
  / Call
  / name:Identifier { return { kind: "name", name, at: at(location()), span: span(location()) }; }
  / "(" _ e:Expr _ ")" { return { ...e, span: span(location()) }; }

Call
  = fn:Identifier _ "(" _ args:Arguments? _ ")"
    {
      const list = args ?? [];
      return {
        kind: "call", fn, at: at(location()), span: span(location()),
        args: list.filter((a) => a.kind !== "keyword"),
        keywords: list.filter((a) => a.kind === "keyword").map(({ kind, ...k }) => k),
      };
    }

Arguments
  = head:Argument tail:(_ "," _ @Argument)* { return [head, ...tail]; }

Argument
  = name:Identifier _ "=" !"=" _ value:(SignedNumber / String / "null" { return null; })
    { return { kind: "keyword", name, value, at: at(location()) }; }
  / Expr

SignedNumber "a number"
  = sign:("-" _)? n:Number { return sign ? -n.value : n.value; }

AddOperator "an operator"
  = op:$("+" / "-") { return { op, at: at(location()) }; }

MulOperator "an operator"
  = op:$("*" !"*" / "/" / "@") { return { op, at: at(location()) }; }

PowOperator "an operator"
  = $("^" / "**") { return { at: at(location()) }; }

Number "a number"
  = text:$(([0-9]+ ("." [0-9]*)? / "." [0-9]+) ([eE] [+-]? [0-9]+)?)
    {
      const value = Number(text);
      if (!Number.isFinite(value)) error("the number " + text + " is beyond float64's range");
      return { kind: "number", value, at: at(location()), span: span(location()) };
    }

String "a string"
  = '"' text:$[^"\n]* '"' { return text; }
  / '"' [^"\n]* { error('this string has no closing "'); }

Identifier "a name"
  = $([A-Za-z_][A-Za-z0-9_]*)

Separator
  = ";" / LineBreak

LineBreak "a line break"
  = "\n" / "\r\n"

_ "space"
  = ([ \t] / Comment)*

Gap "space"
  = ([ \t\r\n;] / Comment)*

Comment
  = "#" [^\n]*

End "the end of the text"
  = !.
`;

const parser = peggy.generate(
  `{{
    const at = (loc) => ({ line: loc.start.line, column: loc.start.column });
    const span = (loc) => ({ start: loc.start.offset, end: loc.end.offset });
    const fold = (head, tail) =>
      tail.reduce(
        (left, [{ op, at }, right]) =>
          ({ kind: "binary", op, left, right, at, span: { start: left.span.start, end: right.span.end } }),
        head,
      );
  }}
  ${grammar}`,
);

/**
 * Parses expression text; a syntax error says where, what was expected and what was found. Text nested deeper
 * than MAX_NESTING is refused first, so that the parser's recursion stays within every thread's stack.
 */
export function parseProgram(text: string): Statement[] {
  checkNesting(text);
  try {
    return parser.parse(text) as Statement[];
  } catch (e) {
    if (!(e instanceof parser.SyntaxError)) throw e;
    const { line, column } = e.location.start;
    // error() in a grammar action carries its own message and no expectations.
    if (e.expected === null) throw new CoreError("syntax", e.message, { position: { line, column } });
    const expected = [...new Set(e.expected.map(describe).filter((d) => d !== "space"))];
    const found = e.found === null ? "the end of the text" : JSON.stringify(e.found);
    throw new CoreError("syntax", `expected ${oneOf(expected)} but found ${found}`, { position: { line, column } });
  }
}

function describe(x: peggy.parser.Expectation): string {
  switch (x.type) {
    case "literal":
      return x.text === "'" ? `"'"` : `'${x.text}'`;
    case "other":
      return x.description;
    case "end":
      return "the end of the text";
    default:
      return "a character";
  }
}

function oneOf(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "something else";
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
