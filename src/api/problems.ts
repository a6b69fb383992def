import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CoreError, type CoreErrorKind } from "../core/errors.js";
import { MalformedJson } from "./json.js";
import { PoolRefusal } from "./pool.js";

/** One thing wrong with a request: where (a JSON pointer into the body, or a place in expression text) and what. */
export interface ProblemItem {
  readonly path?: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** An RFC 9457 problem details body. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly errors: readonly ProblemItem[];
}

/** The problem types, each with its status and title; `type` is their URN (documented in the README). */
export const problemTypes = {
  "invalid-request": { status: 400, title: "The request does not match the schema" },
  "malformed-json": { status: 400, title: "The body is not valid JSON" },
  "syntax-error": { status: 400, title: "The expression does not parse" },
  "unknown-name": { status: 400, title: "The request names something gradserve does not know" },
  unauthorized: { status: 401, title: "An API key is required" },
  "not-found": { status: 404, title: "No such route" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "body-too-large": { status: 413, title: "The body is larger than the configured limit" },
  "unsupported-media-type": { status: 415, title: "Send the body as application/json" },
  "shape-mismatch": { status: 422, title: "Shapes that cannot be combined" },
  "domain-error": { status: 422, title: "A value outside an operation's domain" },
  "non-finite": { status: 422, title: "The computation overflowed float64" },
  "invalid-graph": { status: 422, title: "The graph is not a computation" },
  "limit-exceeded": { status: 422, title: "The request exceeds a configured limit" },
  "rate-limited": { status: 429, title: "Too many requests" },
  overloaded: { status: 503, title: "The server is overloaded" },
  "shutting-down": { status: 503, title: "The server is shutting down" },
  "queue-full": { status: 503, title: "Too many heavy computations are waiting" },
  "deadline-exceeded": { status: 504, title: "The computation ran past its deadline" },
  internal: { status: 500, title: "Internal error" },
} as const;

export type ProblemType = keyof typeof problemTypes;

export function problem(type: ProblemType, detail: string, errors: readonly ProblemItem[] = []): Problem {
  const { status, title } = problemTypes[type];
  return { type: `urn:gradserve:problem:${type}`, title, status, detail, errors };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply
    .code(p.status)
    .type("application/problem+json")
    .send({ ...p, instance: reply.request.url });
}

/** RFC 6901: the path of a value inside the body, "/network/layers/1/weight". */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

const coreProblem: Record<CoreErrorKind, ProblemType> = {
  syntax: "syntax-error",
  shape: "shape-mismatch",
  domain: "domain-error",
  unknown: "unknown-name",
  "non-finite": "non-finite",
  structure: "invalid-graph",
  limit: "limit-exceeded",
};

export function fromCoreError(e: CoreError): Problem {
  const position = e.origin?.position;
  const message = position ? `line ${position.line}, column ${position.column}: ${e.message}` : e.message;
  const item: ProblemItem = {
    ...(e.origin?.path ? { path: pointer(e.origin.path) } : {}),
    ...(position ?? {}),
    message,
  };
  return problem(coreProblem[e.kind], message, [item]);
}

export interface ZodIssueLike {
  readonly code?: string;
  readonly path?: readonly PropertyKey[];
  readonly message: string;
  readonly errors?: readonly (readonly ZodIssueLike[])[];
}

/** An issue where it applies, its path still an array: written as a JSON pointer only if it is listed. */
interface FlatIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** How deep into the value a union's alternative got: its deepest issue's path. */
function depth(branch: readonly ZodIssueLike[]): number {
  let deepest = 0;
  for (const i of branch) deepest = Math.max(deepest, i.path?.length ?? 0);
  return deepest;
}

/**
 * A failed union reports every alternative; the client wants the one it was trying to write. That is the
 * alternative that got deepest into the value (then the one with the fewest complaints); when none got past
 * the top, the alternatives that at least had the right type; otherwise the union's own message.
 */
function flattenIssue(issue: ZodIssueLike, base: readonly PropertyKey[], out: FlatIssue[]): void {
  const here = issue.path && issue.path.length > 0 ? [...base, ...issue.path] : base;
  if (issue.code === "invalid_union" && issue.errors && issue.errors.length > 0) {
    const depths = issue.errors.map(depth);
    const deepest = Math.max(...depths);
    let candidates = issue.errors.filter((_, b) => depths[b] === deepest);
    if (deepest === 0) candidates = candidates.filter((b) => b.some((i) => i.code !== "invalid_type"));
    if (candidates.length > 0) {
      const best = candidates.reduce((a, b) => (b.length < a.length ? b : a));
      for (const i of best) flattenIssue(i, here, out);
      return;
    }
  }
  out.push({ path: here, message: issue.message });
}

/** A body that does not match its route's schema, found where it was parsed off the event loop (tasks.ts). */
export class InvalidBody extends Error {
  constructor(readonly issues: readonly ZodIssueLike[]) {
    super("the body does not match the schema");
  }
}

/**
 * The errors a problem lists at most: a matrix of 250×250 strings has 62,500, which listed in full made a 4 MB
 * answer; the detail still counts them all.
 */
export const MAX_PROBLEM_ERRORS = 100;

/**
 * Added to the issues of a body with too many wrong entries for zod to collect (validation.ts): zod then stopped at
 * the first, and the rest were not counted.
 */
export const UNCOUNTED: ZodIssueLike = {
  code: "uncounted",
  path: [],
  message: "more wrong values than can be counted",
};

function validationProblem(context: string, issues: readonly ZodIssueLike[]): Problem {
  const flat: FlatIssue[] = [];
  const uncounted = issues.some((i) => i.code === UNCOUNTED.code);
  for (const issue of issues) if (issue.code !== UNCOUNTED.code) flattenIssue(issue, [], flat);
  const items = flat.slice(0, MAX_PROBLEM_ERRORS).map((i) => ({ path: pointer(i.path), message: i.message }));
  const first = items[0];
  const where = first?.path ? ` at ${first.path}` : "";
  const more = uncounted
    ? ` (and ${UNCOUNTED.message}: only the first is listed)`
    : flat.length > 1
      ? ` (and ${flat.length - 1} more)`
      : "";
  const listed = !uncounted && flat.length > MAX_PROBLEM_ERRORS ? `; the first ${MAX_PROBLEM_ERRORS} are listed` : "";
  return problem(
    "invalid-request",
    `Invalid ${context}${where}: ${first?.message ?? "invalid"}${more}${listed}`,
    items,
  );
}

/** The problem for an error that is the client's (a bad body, a bad problem), or null for a fault of ours. */
export function clientProblem(e: unknown): Problem | null {
  if (e instanceof CoreError) return fromCoreError(e);
  if (e instanceof MalformedJson) return problem("malformed-json", e.message, [e.item]);
  if (e instanceof InvalidBody) return validationProblem("body", e.issues);
  return null;
}

/** The router's own errors (a 414 for a path parameter too long, a 400 for bad percent-encoding) as problems. */
export function problemFromFramework(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode ?? 400;
  const url = request.url.length > 80 ? `${request.url.slice(0, 80)}…` : request.url;
  return sendProblem(reply, {
    ...problem("invalid-request", `${error.message} (${request.method} ${url})`),
    status,
    title: "The request URL cannot be routed",
  });
}

/** Turns every error into problem+json; a client sees a 5xx only for a fault of ours, never with a stack trace. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const client = clientProblem(error);
    if (client) return sendProblem(reply, client);
    if (error instanceof PoolRefusal) {
      if (error.reason === "queue-full") reply.header("retry-after", 1);
      return sendProblem(reply, problem(error.reason, error.message));
    }
    if (error.validation) {
      const issues = error.validation.map((v) => (v.params as { issue: ZodIssueLike }).issue);
      return sendProblem(reply, validationProblem(error.validationContext ?? "body", issues));
    }
    switch (error.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendProblem(
          reply,
          problem(
            "body-too-large",
            `The body exceeds the limit of ${request.routeOptions.bodyLimit} bytes (BODY_LIMIT)`,
          ),
        );
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendProblem(
          reply,
          problem("unsupported-media-type", `Content-Type ${request.headers["content-type"]} is not supported`),
        );
    }
    if (error.code === "FST_UNDER_PRESSURE") return sendProblem(reply, problem("overloaded", error.message));
    const status = error.statusCode ?? 500;
    if (status === 429) return sendProblem(reply, problem("rate-limited", error.message));
    if (status >= 400 && status < 500) {
      return sendProblem(reply, { ...problem("invalid-request", error.message), status, title: "Bad request" });
    }
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(reply, problem("internal", "An internal error occurred; it has been logged"));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem("not-found", `No route ${request.method} ${request.url}; see /docs`)),
  );
}
