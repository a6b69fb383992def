import { biasName, weightName } from "../core/compile/network.js";
import { CoreError } from "../core/errors.js";
import { compare, defaultTolerance, matches, type Tolerance } from "../core/grade.js";
import { fromRows, scalar, type Tensor } from "../core/tensor.js";
import { admitted, type Budget } from "./budget.js";
import { expressionResponse, solveExpressionRequest } from "./expressions.js";
import { gradientsResponse, layerName, solveNetworkRequest } from "./networks.js";
import { pointer } from "./problems.js";
import type { GradeRequestBody, GradeResponseBody, GradescopeBody } from "./schemas/grade.js";
import type { TrainRequestBody } from "./schemas/train.js";
import { runTraining } from "./training.js";
import { encodeAs, type WireForm } from "./wire.js";

type Problem = GradeRequestBody["problem"];
type GradeResult = GradeResponseBody["results"][number];

/**
 * Every number or matrix in a JSON value, by JSON pointer: what can be graded. Strings and booleans (an
 * activation's name, a pass flag) are not answers.
 */
function leaves(value: unknown): Map<string, Tensor> {
  interface Visit {
    readonly value: unknown;
    readonly key?: string | number;
    readonly parent?: Visit;
  }
  const pathOf = (v: Visit): (string | number)[] => {
    const keys: (string | number)[] = [];
    for (let at: Visit | undefined = v; at?.key !== undefined; at = at.parent) keys.push(at.key);
    return keys.reverse();
  };
  const out = new Map<string, Tensor>();
  // An explicit stack, children pushed in reverse to visit them in document order: a submission may nest arrays
  // thousands of levels deep. Paths are built only for the leaves found.
  const stack: Visit[] = [{ value }];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const v = visit.value;
    const tensor = asTensor(v);
    if (tensor) out.set(pointer(pathOf(visit)), tensor);
    else if (v !== null && typeof v === "object") {
      const children = Array.isArray(v) ? v.map((item, i) => [i, item] as const) : Object.entries(v);
      for (let i = children.length - 1; i >= 0; i--) {
        stack.push({ value: children[i][1], key: children[i][0], parent: visit });
      }
    }
  }
  return out;
}

/** A number, a list of numbers (read as a row) or a rectangular array of rows; anything else is not a value. */
function asTensor(value: unknown): Tensor | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return scalar(value);
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((v) => typeof v === "number" && Number.isFinite(v))) return fromRows([value as number[]]);
  const width = Array.isArray(value[0]) ? value[0].length : -1;
  const rectangular = value.every(
    (r) =>
      Array.isArray(r) &&
      r.length === width &&
      width > 0 &&
      r.every((v) => typeof v === "number" && Number.isFinite(v)),
  );
  return rectangular ? fromRows(value as number[][]) : undefined;
}

/** A parameter's value as the answers hold it: in its wire form, read back the way answers are read. */
function asWritten(value: Tensor, form: WireForm | undefined): Tensor {
  return asTensor(encodeAs(value, form)) as Tensor;
}

/** What a gradient-descent step's answer should have been, to tell a slip in the update from a wrong gradient. */
interface UpdateRelation {
  readonly gradient: string;
  readonly original: Tensor;
  readonly learningRate: number;
}

interface Expected {
  readonly items: ReadonlyMap<string, Tensor>;
  readonly updates: ReadonlyMap<string, UpdateRelation>;
}

/** Runs `solve`, pointing any error it raises at the request's "problem", where the problem it solves sits. */
function withinProblem<T>(solve: () => T): T {
  try {
    return solve();
  } catch (e) {
    if (!(e instanceof CoreError) || !e.origin?.path) throw e;
    throw new CoreError(e.kind, e.message, { ...e.origin, path: ["problem", ...e.origin.path] });
  }
}

/** The answers to a problem, computed once: every gradable item of its endpoint's response. */
function solveProblem(problem: Problem, budget: Budget): Expected {
  const updates = new Map<string, UpdateRelation>();
  let response: unknown;
  if ("steps" in problem) {
    response = runTraining(problem as TrainRequestBody, budget);
  } else if ("network" in problem) {
    const solved = solveNetworkRequest(problem, budget);
    response = gradientsResponse(solved, problem);
    const lr = problem.learningRate;
    if (lr !== undefined) {
      problem.network.layers.forEach((layer, i) => {
        const name = layerName(layer, i);
        const relate = (param: string, part: "weight" | "bias") =>
          updates.set(pointer(["updatedNetwork", "layers", i, part]), {
            gradient: pointer(["gradients", name, part]),
            original: asWritten(solved.compiled.feeds.get(param) as Tensor, solved.forms.get(param)),
            learningRate: lr,
          });
        relate(weightName(name), "weight");
        if (layer.bias !== undefined) relate(biasName(name), "bias");
      });
    }
  } else {
    const solved = solveExpressionRequest(problem, budget);
    response = expressionResponse(solved, problem);
    const lr = problem.learningRate;
    if (lr !== undefined) {
      for (const name of solved.compiled.parameters) {
        updates.set(pointer(["updatedParameters", name]), {
          gradient: pointer(["gradients", name]),
          original: asWritten(solved.compiled.feeds.get(name) as Tensor, solved.forms.get(name)),
          learningRate: lr,
        });
      }
    }
  }
  // Health figures and the optimizer's buffers are the service's own reports, not answers to grade.
  const items = new Map([...leaves(response)].filter(([path]) => !/^\/(diagnostics|state)(\/|$)/.test(path)));
  return { items, updates };
}

const step = (theta: Tensor, g: Tensor, lr: number, sign: 1 | -1): Tensor => ({
  ...theta,
  data: theta.data.map((v, k) => v + sign * lr * g.data[k]),
});

/** For a wrong updated weight: whether it follows from the student's gradient, or has the update's sign flipped. */
function updateFeedback(
  submitted: Tensor,
  relation: UpdateRelation,
  expected: Expected,
  answers: ReadonlyMap<string, Tensor>,
  t: Tolerance,
): string[] {
  const { original, learningRate: lr } = relation;
  const exact = expected.items.get(relation.gradient) as Tensor;
  if (matches(submitted, step(original, exact, lr, 1), t)) {
    return ["the update has the wrong sign: this is W + lr·∇L, but gradient descent takes W − lr·∇L"];
  }
  const theirs = answers.get(relation.gradient);
  if (theirs && theirs.rows === exact.rows && theirs.cols === exact.cols) {
    const gradientRight = matches(theirs, exact, t);
    if (!gradientRight && matches(submitted, step(original, theirs, lr, -1), t)) {
      return [
        "the update follows correctly from your gradient, which is wrong: fix the gradient and the update follows",
      ];
    }
    if (matches(submitted, step(original, theirs, lr, 1), t)) {
      return ["the update has the wrong sign: this is W + lr·∇L with your gradient; gradient descent takes W − lr·∇L"];
    }
    if (gradientRight) return ["your gradient is right, so the slip is in the update step W − lr·∇L"];
  }
  return [];
}

function show(t: Tensor): number | number[][] {
  return t.rows === 1 && t.cols === 1
    ? t.data[0]
    : Array.from({ length: t.rows }, (_, i) => Array.from(t.data.subarray(i * t.cols, (i + 1) * t.cols)));
}

function gradeOne(
  submission: Record<string, unknown>,
  expected: Expected,
  wanted: readonly { path: string; weight: number }[] | undefined,
  t: Tolerance,
): GradeResult {
  const answers = leaves(submission);
  const items = wanted ?? [...answers.keys()].map((path) => ({ path, weight: 1 }));
  const graded = items.map(({ path, weight }) => {
    const exact = expected.items.get(path);
    const given = answers.get(path);
    if (!exact) {
      const known = [...expected.items.keys()];
      const hint = known.length > 12 ? `${known.slice(0, 12).join(", ")}, …` : known.join(", ");
      return {
        path,
        weight,
        correct: false,
        ...(given ? { submitted: show(given) } : {}),
        entries: [],
        feedback: [`there is no such item; the items are ${hint}`],
      };
    }
    if (!given) {
      const raw = path
        .split("/")
        .slice(1)
        .reduce<unknown>(
          (v, k) => (v as Record<string, unknown> | undefined)?.[k.replaceAll("~1", "/").replaceAll("~0", "~")],
          submission,
        );
      const reason = raw === undefined ? "missing: this item was not submitted" : "not a number or a matrix of numbers";
      return { path, weight, correct: false, expected: show(exact), entries: [], feedback: [reason] };
    }
    const result = compare(given, exact, t);
    const relation = expected.updates.get(path);
    // When the update's mistake is recognized, that is the feedback; the entries' errors only follow from it.
    const cause = !result.correct && relation ? updateFeedback(given, relation, expected, answers, t) : [];
    const feedback = cause.length > 0 ? cause : [...result.feedback];
    return {
      path,
      weight,
      correct: result.correct,
      expected: show(exact),
      submitted: show(given),
      entries: [...result.entries],
      feedback,
    };
  });
  const score = graded.reduce((s, i) => s + (i.correct ? i.weight : 0), 0);
  const maxScore = graded.reduce((s, i) => s + i.weight, 0);
  return { score, maxScore, items: graded };
}

export function grade(body: GradeRequestBody, budget: Budget = admitted): GradeResponseBody {
  const expected = withinProblem(() => solveProblem(body.problem, budget));
  const t = body.tolerance ?? defaultTolerance;
  const wanted = body.items?.map((i) => (typeof i === "string" ? { path: i, weight: 1 } : i));
  const submissions = body.submissions ?? [body.submission as Record<string, unknown>];
  return { results: submissions.map((s) => gradeOne(s, expected, wanted, t)) };
}

/** Gradescope's results.json for one graded submission: one test per item, its feedback as the output. */
export function gradescope(result: GradeResult): GradescopeBody {
  return {
    score: result.score,
    tests: result.items.map((i) => ({
      name: i.path,
      score: i.correct ? i.weight : 0,
      max_score: i.weight,
      output: i.correct ? "correct" : i.feedback.join("; ") || "incorrect",
    })),
  };
}
