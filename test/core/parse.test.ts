import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/core/autodiff.js";
import { compileExpression } from "../../src/core/compile/expression.js";
import type { At, BinaryOperator, Expr, Statement } from "../../src/core/expression/ast.js";
import { MAX_NESTING } from "../../src/core/expression/nesting.js";
import { parseProgram } from "../../src/core/expression/parse.js";
import { coreError } from "../support/core.js";
import { print, printProgram } from "../support/print.js";

/** A deep copy without the locations (`at`, `span`), so that trees can be compared by their structure alone. */
function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => k !== "at" && k !== "span")
        .map(([k, v]) => [k, strip(v)]),
    );
  }
  return x;
}

/** The single expression of a one-statement program. */
function expr(text: string): Expr {
  const program = parseProgram(text);
  expect(program).toHaveLength(1);
  return program[0].value;
}

const reprint = (text: string) => printProgram(parseProgram(text));

// ---------------------------------------------------------------- syntax errors

describe("syntax errors say where (1-based line and column), what was expected and what was found", () => {
  const END = "the end of the text";
  // Columns counted by hand: the column of the first character that cannot continue any parse.
  const cases: readonly {
    text: string;
    line: number;
    column: number;
    expected: readonly string[];
    found: string;
  }[] = [
    // x(1) space(2) +(3): the right operand is missing at column 4, the end.
    { text: "x +", line: 1, column: 4, expected: ["a number", "a name", "'('"], found: END },
    // f(1) ((2) a(3) ,(4) space(5) b(6): the closing parenthesis is missing at column 7.
    { text: "f(a, b", line: 1, column: 7, expected: ["')'", "','"], found: END },
    // a(1) space(2) =(3) space(4) =(5): after "a = " the value is missing where the second '=' is.
    { text: "a = = 2", line: 1, column: 5, expected: ["a number", "a name"], found: '"="' },
    // 2(1) space(2) 3(3): two operands with no operator or separator between them.
    {
      text: "2 3",
      line: 1,
      column: 3,
      expected: ["an operator", "';'", "a line break", END],
      found: '"3"',
    },
    // ((1) a(2) space(3) +(4) space(5) b(6): the ')' is missing at column 7.
    { text: "(a + b", line: 1, column: 7, expected: ["')'", "an operator"], found: END },
    // a(1) space(2) *(3) space(4) *(5): "* *" is not "**"; the operand is missing at the second '*'.
    { text: "a * * b", line: 1, column: 5, expected: ["a number", "a name", "'('"], found: '"*"' },
    // f(1) ((2) a(3) space(4) b(5): two arguments need a comma.
    { text: "f(a b)", line: 1, column: 5, expected: ["','", "')'"], found: '"b"' },
    // s(1) u(2) m(3) ((4) x(5) ,(6) )(7): an argument after the comma is missing.
    { text: "sum(x,)", line: 1, column: 7, expected: ["a number", "a name"], found: '")"' },
    // a(1) space(2) $(3): a character the language does not have.
    { text: "a $ b", line: 1, column: 3, expected: ["an operator", END], found: '"$"' },
    // a(1) space(2) =(3) space(4) 1(5) ;(6) space(7) =(8): the second statement has no start.
    { text: "a = 1; = 2", line: 1, column: 8, expected: ["a number", "a name", END], found: '"="' },
    // a(1) space(2) =(3) tab(4) tab(5) +(6): a tab is one column; the operand of the unary + is missing.
    { text: "a =\t\t+", line: 1, column: 7, expected: ["a number", "a name"], found: END },
    // Line 2 is "b = a +": b(1) space(2) =(3) space(4) a(5) space(6) +(7); the line break is found at 8.
    { text: "a = 1\nb = a +\nc = 2", line: 2, column: 8, expected: ["a number", "a name"], found: '"\\n"' },
    // Line 3 is "z = (x + y": z(1) space(2) =(3) space(4) ((5) x(6) space(7) +(8) space(9) y(10), end at 11.
    { text: "x = 1\ny = 2\nz = (x + y", line: 3, column: 11, expected: ["')'"], found: END },
    // Line 3 is "L = sum(W @ )": L(1) space(2) =(3) space(4) s(5) u(6) m(7) ((8) W(9) space(10) @(11)
    // space(12) )(13). A comment line counts as a line.
    { text: "# header\nW = 1\nL = sum(W @ )", line: 3, column: 13, expected: ["a number", "a name"], found: '")"' },
    // Windows line breaks: the \r belongs to line 1, so line 2 "b = (" is counted as usual: end at column 6.
    { text: "a = 1\r\nb = (", line: 2, column: 6, expected: ["a number", "a name"], found: END },
    // Nothing at all: a statement is expected at the very start.
    { text: "", line: 1, column: 1, expected: ["a number", "a name", "'('", "'-'"], found: END },
    // Only a comment and a line break: still no statement, now at the start of line 2.
    { text: "  # only a comment\n", line: 2, column: 1, expected: ["a number", "a name"], found: END },
  ];

  it.each(cases)("$text → line $line, column $column", ({ text, line, column, expected, found }) => {
    const e = coreError(() => parseProgram(text));
    expect(e.kind).toBe("syntax");
    expect(e.origin?.position).toEqual({ line, column });
    expect(e.message).toMatch(/^expected .* but found /);
    const [wanted, got] = e.message.slice("expected ".length).split(" but found ");
    for (const item of expected) expect(wanted).toContain(item);
    expect(got).toBe(found);
    // Internal rule names are never shown.
    expect(wanted).not.toContain("space");
  });

  it("says a string has no closing quote, where the string starts", () => {
    // m(1) s(2) e(3) ((4) y(5) ,(6) space(7) p(8) ,(9) space(10) reduction(11-19) =(20) "(21).
    const e = coreError(() => parseProgram('mse(y, p, reduction="sum)'));
    expect(e.kind).toBe("syntax");
    expect(e.origin?.position).toEqual({ line: 1, column: 21 });
    expect(e.message).toBe('this string has no closing "');
  });

  it("refuses a number beyond float64's range where it is written", () => {
    // 1(1) space(2) +(3) space(4) 1e999 starts at column 5.
    const e = coreError(() => parseProgram("1 + 1e999"));
    expect(e.kind).toBe("syntax");
    expect(e.origin?.position).toEqual({ line: 1, column: 5 });
    expect(e.message).toBe("the number 1e999 is beyond float64's range");
  });

  it("compileExpression passes the syntax error through unchanged", () => {
    const e = coreError(() => compileExpression("W @", { parameters: new Map(), constants: new Map() }));
    expect(e.kind).toBe("syntax");
    // W(1) space(2) @(3): the right operand is missing at column 4.
    expect(e.origin?.position).toEqual({ line: 1, column: 4 });
  });
});

// ---------------------------------------------------------------- precedence and associativity

/** Text, and the fully parenthesized form print gives it. */
const precedence: readonly (readonly [string, string])[] = [
  // Unary minus is looser than ^: -x^2 = -(x^2).
  ["-x^2", "-(x ^ 2)"],
  // The exponent is a unary expression, so 2^-1 parses.
  ["2^-1", "2 ^ (-1)"],
  // ^ is right-associative.
  ["a^b^c", "a ^ (b ^ c)"],
  // ** is the same operator, with the same associativity.
  ["a ** b ** c", "a ^ (b ^ c)"],
  ["x**2", "x ^ 2"],
  // + and - are left-associative.
  ["a - b - c", "(a - b) - c"],
  ["a - b + c", "(a - b) + c"],
  // * @ / share a level and are left-associative, as in NumPy.
  ["a * b @ c / d", "((a * b) @ c) / d"],
  ["a / b / c", "(a / b) / c"],
  ["a + b * c", "a + (b * c)"],
  ["(a + b) * c", "(a + b) * c"],
  // Unary minus is tighter than * and looser than ^ and the quote.
  ["-a * b", "(-a) * b"],
  ["a * -b", "a * (-b)"],
  ["a - -b", "a - (-b)"],
  ["-x'", "-(x')"],
  ["2 * x ^ 3", "2 * (x ^ 3)"],
  // The transpose quote is the tightest and may repeat.
  ["x''", "(x')'"],
  ["x'^2", "(x') ^ 2"],
  ["a^b'", "a ^ (b')"],
  ["a @ b'", "a @ (b')"],
  ["(a @ b)'", "(a @ b)'"],
  // A unary plus is no node at all.
  ["+a", "a"],
  // Calls, keywords and their printing.
  ["sum(-x ^ 2, axis=1)", "sum(-(x ^ 2), axis=1)"],
  ['mse(y, p, reduction="sum")', 'mse(y, p, reduction="sum")'],
  ["f(x, axis=0)'", "f(x, axis=0)'"],
  ["g(k=null)", "g(k=null)"],
  ["f()", "f()"],
  // Keywords are printed after the positional arguments, wherever they were written.
  ["f(k=1, x)", "f(x, k=1)"],
];

describe("precedence and associativity, pinned by the printer's full parentheses", () => {
  it.each(precedence)("%s prints as %s", (text, printed) => {
    expect(reprint(text)).toBe(printed);
  });

  it("print is a fixed point: text → parse → print → parse → print, and both parses agree", () => {
    for (const [text] of precedence) {
      const once = reprint(text);
      expect(reprint(once), text).toBe(once);
      expect(strip(parseProgram(once)), text).toEqual(strip(parseProgram(text)));
    }
  });

  it("the AST nodes say where each piece starts: binary at its operator, neg at its sign, calls at their name", () => {
    // -(1) x(2) ^(3) 2(4) space(5) +(6) space(7) f(8)
    const e = expr("-x^2 + f(y')");
    expect(e).toMatchObject({ kind: "binary", op: "+", at: { line: 1, column: 6 } });
    if (e.kind !== "binary") return expect.fail("not binary");
    expect(e.left).toMatchObject({ kind: "neg", at: { column: 1 } });
    expect(e.right).toMatchObject({ kind: "call", fn: "f", at: { column: 8 } });
    if (e.left.kind !== "neg" || e.right.kind !== "call") return expect.fail("wrong shape");
    expect(e.left.operand).toMatchObject({ kind: "binary", op: "^", at: { column: 3 } });
    // f(8) ((9) y(10) '(11)
    expect(e.right.args[0]).toMatchObject({ kind: "transpose", at: { column: 11 } });
  });

  // Each evaluated with nothing bound: the numbers show which tree was built, worked by hand.
  it.each([
    ["-2^2", -4],
    ["2^-1", 0.5],
    ["2^3^2", 512], // 2^(3^2) = 2^9, not (2^3)^2 = 64
    ["2**3**2", 512],
    ["8 - 4 - 2", 2], // (8 - 4) - 2, not 8 - (4 - 2) = 6
    ["8 / 4 / 2", 1], // (8 / 4) / 2, not 8 / (4 / 2) = 4
    ["2 * 3 @ 4 / 8", 3], // ((2·3)·4) / 8 with 1×1 matrix products
    ["-3 * 2 + 1", -5],
    ["(1 + 2) * -3", -9],
    ["2^-1^2", 0.5], // 2^(-(1^2))
  ] as const)("%s = %d", (text, value) => {
    const c = compileExpression(text, { parameters: new Map(), constants: new Map() });
    expect(evaluate(c.graph, c.feeds)[c.output].data[0]).toBe(value);
  });
});

describe("statements, comments and numbers", () => {
  it("; and line breaks separate statements; # comments, blank lines and stray separators are ignored", () => {
    const program = parseProgram("a = 1; b = 2\n\n# a comment line\n  c = a + b # trailing\n;;\nc\n");
    expect(printProgram(program)).toBe("a = 1\nb = 2\nc = a + b\nc");
    expect(program.map((s) => s.kind)).toEqual(["assign", "assign", "assign", "expr"]);
    // Line 4 is "  c = a + b # trailing": c(3) space(4) =(5) space(6) a(7) space(8) +(9).
    expect(program[2].at).toEqual({ line: 4, column: 3 });
    expect(program[2].value).toMatchObject({ kind: "binary", at: { line: 4, column: 9 } });
    if (program[2].value.kind !== "binary") return expect.fail("not binary");
    expect(program[2].value.left.at).toEqual({ line: 4, column: 7 });
    expect(program[3].at).toEqual({ line: 6, column: 1 });
  });

  it("a single statement may be surrounded by separators and comments", () => {
    expect(strip(parseProgram(";\n# c\n x ;\n"))).toEqual([{ kind: "expr", value: { kind: "name", name: "x" } }]);
  });

  it.each([
    ["1", 1],
    ["0.5", 0.5],
    [".5", 0.5],
    ["3.", 3],
    ["1e-3", 0.001],
    ["2E+4", 20000],
    ["1.5e2", 150],
    ["007", 7],
  ] as const)("the number %s is %d", (text, value) => {
    expect(strip(expr(text))).toEqual({ kind: "number", value });
  });

  it("a minus sign is never part of a number: -1 is a neg node", () => {
    expect(strip(expr("-1"))).toEqual({ kind: "neg", operand: { kind: "number", value: 1 } });
  });

  it("keyword values are numbers, strings or null", () => {
    const e = expr('f(x, a=0.5, b="sum", c=null)');
    expect(strip(e)).toEqual({
      kind: "call",
      fn: "f",
      args: [{ kind: "name", name: "x" }],
      keywords: [
        { name: "a", value: 0.5 },
        { name: "b", value: "sum" },
        { name: "c", value: null },
      ],
    });
  });
});

// ---------------------------------------------------------------- round trip

const at: At = { line: 0, column: 0 };
const located = { at, span: { start: 0, end: 0 } };
const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
/** Non-negative finite float64s (a parsed tree never holds a negative number), tiny and huge ones included. */
const nonNegative = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map(Math.abs);
/** What a string keyword may hold in practice: no quote, no line break, no escapes. */
const plainString = fc.stringMatching(/^[A-Za-z0-9_ .,:+*-]{0,8}$/);

const keyword = fc.record({
  name: identifier,
  value: fc.oneof(nonNegative, plainString, fc.constant(null)),
  at: fc.constant(at),
});

const { tree } = fc.letrec<{ tree: Expr }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    nonNegative.map((value): Expr => ({ kind: "number", value, ...located })),
    identifier.map((name): Expr => ({ kind: "name", name, ...located })),
    tie("tree").map((operand): Expr => ({ kind: "neg", operand, ...located })),
    fc
      .record({
        op: fc.constantFrom<BinaryOperator>("+", "-", "*", "/", "@", "^"),
        left: tie("tree"),
        right: tie("tree"),
      })
      .map(({ op, left, right }): Expr => ({ kind: "binary", op, left, right, ...located })),
    tie("tree").map((operand): Expr => ({ kind: "transpose", operand, ...located })),
    fc
      .record({
        fn: identifier,
        args: fc.array(tie("tree"), { maxLength: 3 }),
        keywords: fc.array(keyword, { maxLength: 2 }),
      })
      .map(({ fn, args, keywords }): Expr => ({ kind: "call", fn, args, keywords, ...located })),
  ),
}));

const statement: fc.Arbitrary<Statement> = fc.oneof(
  fc.record({ kind: fc.constant("assign" as const), name: identifier, value: tree, at: fc.constant(at) }),
  fc.record({ kind: fc.constant("expr" as const), value: tree, at: fc.constant(at) }),
);

describe("printProgram and parseProgram are inverse on random trees", () => {
  it("print → parse gives back the tree (locations aside)", () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 4 }), (program) => {
        const text = printProgram(program);
        expect(strip(parseProgram(text)), text).toEqual(strip(program));
      }),
      { seed: 20_240_612, numRuns: 300 },
    );
  });

  it("parse → print → parse → print is a fixed point on printed random trees", () => {
    fc.assert(
      fc.property(tree, (e) => {
        const once = printProgram([{ kind: "expr", value: e, at }]);
        expect(reprint(once)).toBe(once);
      }),
      { seed: 20_240_613, numRuns: 200 },
    );
  });

  // The grammar's strings have no escapes, so the printer must not add any (JSON.stringify would turn a
  // backslash into two and a tab into \t).
  it.each([
    ["a backslash", 'f(k="a\\b")'],
    ["a tab", 'f(k="a\tb")'],
  ])("a string keyword holding %s survives print → parse", (_what, text) => {
    const program = parseProgram(text);
    expect(strip(parseProgram(printProgram(program)))).toEqual(strip(program));
  });
});

describe("spans: each node's text, which names it in messages", () => {
  /** Every node of a tree, the tree first. */
  const nodes = (e: Expr): Expr[] => {
    const children =
      e.kind === "binary" ? [e.left, e.right] : e.kind === "call" ? e.args : "operand" in e ? [e.operand] : [];
    return [e, ...children.flatMap(nodes)];
  };

  it("the text a node spans parses back to that node, on random trees written with spaces and comments", () => {
    fc.assert(
      fc.property(tree, fc.constantFrom("", " ", "  "), (e, space) => {
        // Written by print, spaced out around every operator, after an assignment and before a comment.
        const written = print(e).replace(/ ([-+*/@^]) /g, `${space}$1${space}`);
        const text = `y = ${written} # the end`;
        const [statement] = parseProgram(text);
        for (const node of nodes(statement.value)) {
          const spanned = text.slice(node.span.start, node.span.end);
          expect(spanned.trim(), text).toBe(spanned);
          expect(strip(expr(spanned)), `${spanned} in ${text}`).toEqual(strip(node));
        }
      }),
      { seed: 20_261_128, numRuns: 300 },
    );
  });

  it("names each value without a name by its text as written, its first 57 characters and ... past 60", () => {
    const x = { rows: 1, cols: 1, data: Float64Array.of(1) };
    const terms = Array.from({ length: 12 }, (_, i) => `x*${i}`);
    const text = `y = sigmoid( x ) ;  ${terms.join("  +  ")}`;
    const c = compileExpression(text, { parameters: new Map([["x", x]]), constants: new Map() });
    const names = c.graph.nodes.filter((n) => n.kind === "op").map((n) => n.name);
    expect(names.slice(0, 4)).toEqual(["y", "x*0", "x*1", "x*0  +  x*1"]);
    expect(names).toContain("x*0  +  x*1  +  x*2  +  x*3  +  x*4  +  x*5  +  x*6  +  x*7");
    expect(names.at(-1)).toBe(`${terms.join("  +  ").slice(0, 57)}...`);
    expect(names.every((n) => n.length <= 60)).toBe(true);
  });

  it("spans what was written: a parenthesized node's parentheses and a transpose's quote are part of it", () => {
    const e = expr("(a + b) * c''");
    if (e.kind !== "binary" || e.right.kind !== "transpose") return expect.fail("wrong shape");
    expect(e.span).toEqual({ start: 0, end: 13 });
    expect(e.left.span).toEqual({ start: 0, end: 7 });
    expect(e.right.span).toEqual({ start: 10, end: 13 });
    expect(e.right.operand.span).toEqual({ start: 10, end: 12 });
  });
});

// ---------------------------------------------------------------- short texts with deep nesting

describe("deeply nested texts", () => {
  const x = { rows: 1, cols: 1, data: Float64Array.of(1.5) };
  const value = (text: string) => {
    const c = compileExpression(text, { parameters: new Map([["x", x]]), constants: new Map() });
    return evaluate(c.graph, c.feeds)[c.output].data[0];
  };
  const refusedAt = (text: string) => {
    const e = coreError(() => parseProgram(text));
    expect(e.kind).toBe("limit");
    expect(e.message).toContain(`more than ${MAX_NESTING} levels deep`);
    return e.origin?.position;
  };

  // Every third level a parenthesis, a sign and a power: "(-x^(-x^(x))", the nth opener at column column(n).
  const openers = (n: number) => Array.from({ length: n }, (_, i) => ["(", "-", "x^"][i % 3]);
  const mixed = (n: number) => `${openers(n).join("")}x${")".repeat(Math.ceil(n / 3))}`;
  const mixedColumn = (n: number) => openers(n - 1).join("").length + (n % 3 === 0 ? 2 : 1);

  it.each([
    ["parentheses", (n: number) => `${"(".repeat(n)}x${")".repeat(n)}`, (n: number) => n],
    ["calls", (n: number) => `${"f(".repeat(n)}x${")".repeat(n)}`, (n: number) => 2 * n],
    ["signs", (n: number) => `${"-+".repeat(n / 2)}${n % 2 ? "-" : ""}x`, (n: number) => n],
    ["powers", (n: number) => `${"x ^ ".repeat(n)}x`, (n: number) => 4 * n - 1],
    ["powers written **", (n: number) => `${"x**".repeat(n)}x`, (n: number) => 3 * n - 1],
    ["all three in turn", mixed, mixedColumn],
  ])("%s: 256 levels parse, one more is refused where it opens", (_what, text, column) => {
    expect(MAX_NESTING).toBe(256);
    expect(() => parseProgram(text(255))).not.toThrow();
    expect(() => parseProgram(text(256))).not.toThrow();
    expect(refusedAt(text(258))).toMatchObject({ line: 1 });
    expect(refusedAt(text(257))).toEqual({ line: 1, column: column(257) });
  });

  it("counts only what is open: operators between operands end a chain, closed parentheses are left", () => {
    const open = (n: number, inner: string) => `${"(".repeat(n)}${inner}${")".repeat(n)}`;
    // 255 parentheses, then a chain of one sign or one power at a time: 256 levels at most, however many.
    expect(() => parseProgram(open(255, Array(1000).fill("-x").join(" - ")))).not.toThrow();
    expect(() => parseProgram(open(255, Array(1000).fill("x^2").join(" * ")))).not.toThrow();
    expect(() => parseProgram(Array(1000).fill(open(256, "x")).join(" + "))).not.toThrow();
    expect(() => parseProgram(Array(300).fill("a = --x").join("\n"))).not.toThrow();
    // A chain goes on after a parenthesis closes: 255 signs, (x), then the 256th and 257th levels.
    expect(() => parseProgram(`${"-".repeat(255)}(x)^x`)).not.toThrow();
    expect(refusedAt(`${"-".repeat(255)}(x)^-x`)).toEqual({ line: 1, column: 260 });
    // Not operators: the sign in a number's exponent, text in comments and strings, the statement's line.
    expect(() => parseProgram(`${"x^1e-5^".repeat(128)}x`)).not.toThrow();
    expect(refusedAt(`${"x^1e-5^".repeat(129)}x`)).toEqual({ line: 1, column: 128 * 7 + 2 });
    expect(() => parseProgram(`x # ${"(".repeat(1000)}\nf(x, k="${"(".repeat(1000)}")`)).not.toThrow();
    expect(refusedAt(`x\n${"-".repeat(257)}x`)).toEqual({ line: 2, column: 257 });
  });

  it("256 signs compile to the identity; long sums and runs of transposes are loops, not nesting", () => {
    expect(value(`${"-".repeat(256)}x`)).toBe(1.5);
    // The length limit admits 5,000 terms, a tree 5,000 deep, which the compiler follows without recursing.
    expect(value(Array(5000).fill("x").join("+"))).toBe(7500);
    expect(value(Array(5000).fill("x").join("-"))).toBe(-7497);
    expect(value(`x${"'".repeat(9999)}`)).toBe(1.5);
  });

  it("12 nested parentheses and calls parse to the tree they spell", () => {
    expect(strip(expr(`${"(".repeat(12)}x${")".repeat(12)}`))).toEqual({ kind: "name", name: "x" });
    let e = expr(`${"f(".repeat(12)}x${")".repeat(12)}`);
    for (let depth = 0; depth < 12; depth++) {
      if (e.kind !== "call") return expect.fail(`depth ${depth} is not a call`);
      e = e.args[0];
    }
    expect(strip(e)).toEqual({ kind: "name", name: "x" });
  });

  // A grammar that parses a base twice when no ^ follows doubles its work with every level of nesting: 20 levels
  // took a second before the Power rule was written to parse its base once.
  it("20 nested parentheses parse in well under 100 ms", () => {
    const start = performance.now();
    parseProgram(`${"(".repeat(20)}x${")".repeat(20)}`);
    expect(performance.now() - start).toBeLessThan(100);
  });
});
