import { CoreError, type Origin } from "../errors.js";
import type { At, Expr, Statement } from "../expression/ast.js";
import { print, printAtMost } from "../expression/ast.js";
import { parseProgram, tooDeep } from "../expression/parse.js";
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

/** A number written in the text, possibly negated (leaky_relu(x, -0.2)); undefined for anything else. */
function literalValue(e: Expr): number | undefined {
  if (e.kind === "number") return e.value;
  if (e.kind === "neg" && e.operand.kind === "number") return -e.operand.value;
  return undefined;
}

/** How a node made from a piece of text is called in messages: the text itself, shortened if long. */
function label(e: Expr): string {
  return printAtMost(e, 60);
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
  try {
    return compileStatements(parseProgram(text), bindings);
  } catch (e) {
    throw e instanceof RangeError ? tooDeep() : e;
  }
}

function compileStatements(statements: readonly Statement[], bindings: Bindings): CompiledExpression {
  const p = new ProblemBuilder();
  const b = p.graph;
  const scope = bindLeaves(p, bindings);
  const named = new Map<string, number>();

  const compile = (e: Expr, name?: string): number => {
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
      case "neg":
        return b.apply("neg", [compile(e.operand)], { name: name ?? label(e), origin: position(e.at) });
      case "transpose":
        return b.apply("transpose", [compile(e.operand)], { name: name ?? label(e), origin: position(e.at) });
      case "binary":
        return b.apply(operatorOp[e.op], [compile(e.left), compile(e.right)], {
          name: name ?? label(e),
          origin: position(e.at),
        });
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
          `${e.fn}: the attribute '${attrNames[i]}' must be a number written in the text, not ${print(arg)}`,
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
