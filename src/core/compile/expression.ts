import { CoreError, type Origin } from "../errors.js";
import type { At, Expr, Statement } from "../expression/ast.js";
import { parseProgram } from "../expression/parse.js";
import { opNames, registry } from "../ops/registry.js";
import type { CompiledProblem } from "../problem.js";
import type { Tensor } from "../tensor.js";
import { withDefaultClassAxis } from "./axis.js";
import { ProblemBuilder } from "./builder.js";

export interface Bindings {
  /** Differentiated and, with a learning rate, updated; in the order the client gave them. */
  readonly parameters: ReadonlyMap<string, Tensor>;
  /** Used, not differentiated (inputs, targets). */
  readonly constants: ReadonlyMap<string, Tensor>;
}

export interface CompiledExpression extends CompiledProblem {
  /** Every name a statement assigned, in the order first assigned, bound to its last value's node. */
  readonly named: ReadonlyMap<string, number>;
}

const operatorOp = { "+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "^": "pow" } as const;

const position = (at: At): Origin => ({ position: at });

/** The nodes whose first operand compile follows in a loop. */
type Spine = Extract<Expr, { kind: "binary" | "neg" | "transpose" }>;

/** A number written in the text, possibly negated (leaky_relu(x, -0.2)); undefined for anything else. */
function literalValue(e: Expr): number | undefined {
  if (e.kind === "number") return e.value;
  if (e.kind === "neg" && e.operand.kind === "number") return -e.operand.value;
  return undefined;
}

/**
 * How a node made from a piece of text is called in messages: the text itself, shortened if long. A slice of the
 * text, so that naming every node of a 5,000-term sum costs no more than the sum.
 */
function labeller(text: string): (e: Expr) => string {
  return ({ span }) =>
    span.end - span.start <= 60 ? text.slice(span.start, span.end) : `${text.slice(span.start, span.start + 57)}...`;
}

export function bindLeaves(p: ProblemBuilder, bindings: Bindings): Map<string, number> {
  const scope = new Map<string, number>();
  for (const [name, value] of bindings.parameters)
    scope.set(name, p.parameter(name, value, { path: ["parameters", name] }));
  for (const [name, value] of bindings.constants)
    scope.set(name, p.constant(name, value, { path: ["constants", name] }));
  return scope;
}

/** Compiles expression text onto the core graph; the last statement is the output. */
export function compileExpression(text: string, bindings: Bindings): CompiledExpression {
  return compileStatements(parseProgram(text), bindings, labeller(text));
}

function compileStatements(
  statements: readonly Statement[],
  bindings: Bindings,
  label: (e: Expr) => string,
): CompiledExpression {
  const p = new ProblemBuilder();
  const b = p.graph;
  const scope = bindLeaves(p, bindings);
  const named = new Map<string, number>();

  /**
   * A long sum or a run of transposes is a tree as deep as it is long (5,000 terms fit in the length limit), while
   * the nesting limit bounds only what is inside parentheses, signs and powers. So the left-hand operands are
   * followed in a loop, and the recursion (into right-hand operands and arguments) is only as deep as the nesting.
   */
  const compile = (top: Expr, name?: string): number => {
    const spine: Spine[] = [];
    let e = top;
    while (e.kind === "binary" || e.kind === "neg" || e.kind === "transpose") {
      spine.push(e);
      e = e.kind === "binary" ? e.left : e.operand;
    }
    let value = leaf(e, spine.length === 0 ? name : undefined);
    for (let i = spine.length - 1; i >= 0; i--) {
      const s = spine[i];
      const options = { name: (i === 0 ? name : undefined) ?? label(s), origin: position(s.at) };
      value =
        s.kind === "binary"
          ? b.apply(operatorOp[s.op], [value, compile(s.right)], options)
          : b.apply(s.kind, [value], options);
    }
    return value;
  };

  const leaf = (e: Exclude<Expr, Spine>, name?: string): number => {
    switch (e.kind) {
      case "number":
        return p.literal(e.value);
      case "name": {
        const found = scope.get(e.name);
        if (found === undefined) {
          throw new CoreError(
            "unknown",
            `unknown name '${e.name}'; names in scope: ${[...scope.keys()].join(", ") || "none"}`,
            position(e.at),
          );
        }
        return found;
      }
      case "call":
        return call(e, name);
    }
  };

  const call = (e: Extract<Expr, { kind: "call" }>, name?: string): number => {
    const op = registry.get(e.fn);
    if (!op) {
      throw new CoreError(
        "unknown",
        `unknown function '${e.fn}'; valid functions: ${opNames().join(", ")}`,
        position(e.at),
      );
    }
    const arity = op.operands.length;
    const attrNames = Object.keys(op.attrs);
    const extra = e.args.slice(arity);
    if (e.args.length < arity || extra.length > attrNames.length) {
      const takes = [...op.operands, ...attrNames.map((a) => `${a}?`)].join(", ");
      throw new CoreError(
        "shape",
        `${e.fn}(${takes}) takes ${arity} operand(s)${attrNames.length ? ` and up to ${attrNames.length} attribute(s)` : ""}, but was given ${e.args.length} argument(s)`,
        position(e.at),
      );
    }
    const attrs: Record<string, unknown> = {};
    const set = (key: string, value: unknown, at: At) => {
      if (Object.hasOwn(attrs, key)) {
        throw new CoreError("unknown", `${e.fn}: the attribute '${key}' is given twice`, position(at));
      }
      attrs[key] = value;
    };
    extra.forEach((arg, i) => {
      const value = literalValue(arg);
      if (value === undefined) {
        throw new CoreError(
          "unknown",
          `${e.fn}: the attribute '${attrNames[i]}' must be a number written in the text, not ${label(arg)}`,
          position(arg.at),
        );
      }
      set(attrNames[i], value, arg.at);
    });
    for (const k of e.keywords) set(k.name, k.value, k.at);
    const inputs = e.args.slice(0, arity).map((a) => compile(a));
    return b.apply(e.fn, inputs, {
      name: name ?? label(e),
      origin: position(e.at),
      attrs: withDefaultClassAxis(
        e.fn,
        inputs.map((i) => b.node(i).shape),
        attrs,
      ),
    });
  };

  let output = -1;
  statements.forEach((s: Statement) => {
    output = compile(s.value, s.kind === "assign" ? s.name : undefined);
    if (s.kind === "assign") {
      scope.set(s.name, output);
      named.set(s.name, output);
    }
  });
  return { ...p.finish(output, named.values()), named };
}
