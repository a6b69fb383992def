import { type Bindings, type CompiledExpression, compileExpression } from "../core/compile/expression.js";
import { compileGraphForm, type GraphFormNode } from "../core/compile/graph-form.js";
import type { ExplainTarget } from "../core/explain/index.js";
import { sgdStep } from "../core/optimize.js";
import { leafGradient, type Solution, solve } from "../core/problem.js";
import { type Tensor, zeros } from "../core/tensor.js";
import { analysis, checkPasses } from "./analysis.js";
import { admitted, type Budget, type Description } from "./budget.js";
import type { ExpressionsRequestBody, ExpressionsResponseBody } from "./schemas/expressions.js";
import type { WireValue } from "./schemas/values.js";
import { decode, encodeAs, encodeMatrix, type WireForm } from "./wire.js";

/** In an expression a list is a vector, and vectors are columns, as in W @ x. */
function bind(values: Record<string, WireValue> | undefined, forms: Map<string, WireForm>) {
  return new Map(
    Object.entries(values ?? {}).map(([name, value]) => {
      const { tensor, form } = decode(value, "column");
      forms.set(name, form);
      return [name, tensor];
    }),
  );
}

export type ExpressionProblemBody = Pick<ExpressionsRequestBody, "parameters" | "constants" | "expression" | "graph">;

/**
 * An expression or graph request, compiled, with how to compile it again with other constants (a mini-batch).
 * Whatever route sends it (compute, train, grade), its stated size is checked against the limits first.
 */
export function compileRequest(body: ExpressionProblemBody, forms: Map<string, WireForm>, budget: Budget) {
  const { expression, graph } = body;
  if (expression !== undefined) budget.within("expressionLength", expression.length, ["expression"]);
  if (graph !== undefined) budget.within("graphNodes", graph.nodes.length, ["graph", "nodes"]);
  const bindings: Bindings = { parameters: bind(body.parameters, forms), constants: bind(body.constants, forms) };
  const compileWith = (b: Bindings): CompiledExpression => {
    if (body.expression !== undefined) return compileExpression(body.expression, b);
    const graph = body.graph as NonNullable<ExpressionsRequestBody["graph"]>;
    const nodes: GraphFormNode[] = graph.nodes.map(({ id, op, inputs, ...attrs }) => ({ id, op, inputs, attrs }));
    return compileGraphForm(nodes, graph.output, b);
  };
  const rebuild = (constants: ReadonlyMap<string, Tensor>) =>
    compileWith({ ...bindings, constants: new Map([...bindings.constants, ...constants]) });
  return { compiled: compileWith(bindings), rebuild };
}

/** Parameter values in the forms the request used. */
export function parametersWith(
  values: ReadonlyMap<string, Tensor>,
  forms: ReadonlyMap<string, WireForm>,
): Record<string, WireValue> {
  return Object.fromEntries([...values].map(([name, value]) => [name, encodeAs(value, forms.get(name))]));
}

export interface SolvedExpression {
  readonly compiled: CompiledExpression;
  readonly forms: ReadonlyMap<string, WireForm>;
  readonly solution: Solution;
  readonly target: ExplainTarget;
}

export function solveExpressionRequest(
  body: ExpressionProblemBody & Pick<ExpressionsRequestBody, "check">,
  budget: Budget = admitted,
  description?: Description,
): SolvedExpression {
  const forms = new Map<string, WireForm>();
  const { compiled } = compileRequest(body, forms, budget);
  budget.admit(compiled.graph, 1 + checkPasses(compiled, body.check), description);
  return {
    compiled,
    forms,
    solution: solve(compiled),
    target: { kind: "graph", problem: compiled, names: compiled.named },
  };
}

export function expressionResponse(solved: SolvedExpression, body: ExpressionsRequestBody): ExpressionsResponseBody {
  const { compiled, forms, solution } = solved;
  // Built with Object.fromEntries, which makes every name an own key, "__proto__" included.
  const named = [...compiled.named];
  const values = Object.fromEntries(named.map(([name, index]) => [name, encodeMatrix(solution.values[index])]));
  const valueGradients = Object.fromEntries(
    named.map(([name, index]) => {
      const { rows, cols } = solution.values[index];
      return [name, encodeMatrix(solution.grads[index] ?? zeros(rows, cols))];
    }),
  );
  const gradients = Object.fromEntries(
    compiled.parameters.map((name) => [name, encodeAs(leafGradient(compiled, solution, name), forms.get(name))]),
  );
  const response = {
    output: encodeMatrix(solution.values[compiled.output]),
    values,
    gradients,
    valueGradients,
    ...analysis(solved.target, solution, body),
  };
  if (body.learningRate === undefined) return response;
  return { ...response, updatedParameters: parametersWith(sgdStep(compiled, solution, body.learningRate), forms) };
}
