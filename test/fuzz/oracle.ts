/**
 * What every response to a fuzzed request must look like, and how to send one with a deadline. Shared by the
 * fuzz suite and scripts/fuzz.ts.
 */
import { z } from "zod";
import { ExpressionsResponse } from "../../src/api/schemas/expressions.js";
import { EvaluateResponse } from "../../src/api/schemas/functions.js";
import { GradeResponse, GradescopeResult } from "../../src/api/schemas/grade.js";
import { GradientsResponse } from "../../src/api/schemas/gradients.js";
import { TrainResponse } from "../../src/api/schemas/train.js";
import type { FuzzRequest, Route } from "./generators.js";

export interface Outcome {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly ms: number;
  /** The Retry-After header of a 429 or 503, if any. */
  readonly retryAfter: string | null;
}

/** A response, or why there was none: the deadline passed (a hang) or the connection failed (a crash). */
export type Sent = Outcome | { readonly failure: "timeout" | "network"; readonly message: string; readonly ms: number };

export async function send(origin: string, req: FuzzRequest, timeoutMs: number): Promise<Sent> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(`${origin}${req.path}`, {
      method: "POST",
      headers: req.contentType === null ? {} : { "content-type": req.contentType },
      // A string body would get text/plain when no type is given; bytes go without one.
      body: req.contentType === null ? new TextEncoder().encode(req.body) : req.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get("content-type") ?? "",
      text,
      ms: ms(),
      retryAfter: res.headers.get("retry-after"),
    };
  } catch (e) {
    const error = e as Error;
    const timeout = error.name === "TimeoutError" || error.name === "AbortError";
    const cause = (error as { cause?: Error }).cause;
    return {
      failure: timeout ? "timeout" : "network",
      message: `${error.message}${cause ? `: ${cause.message}` : ""}`,
      ms: ms(),
    };
  }
}

/** RFC 6901 syntax: empty, or segments each starting with "/", with "~" only as "~0" or "~1". */
export const isJsonPointer = (p: string): boolean => /^(\/([^~/]|~[01])*)*$/u.test(p);

function tokens(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The value a pointer names, looking at own properties only, or `missing`. */
function resolve(value: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  let v = value;
  for (const t of tokens(pointer)) {
    if (Array.isArray(v) && /^(0|[1-9]\d*)$/.test(t) && Number(t) < v.length) v = v[Number(t)];
    else if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.hasOwn(v, t))
      v = (v as Record<string, unknown>)[t];
    else return { found: false };
  }
  return { found: true, value: v };
}

/**
 * A pointer "into the request": it names a value of the body, or a member missing from an object of the
 * body (a required field that is absent).
 */
export function pointsInto(body: unknown, pointer: string): boolean {
  if (resolve(body, pointer).found) return true;
  const parent = pointer.slice(0, pointer.lastIndexOf("/"));
  const up = resolve(body, parent);
  return up.found && up.value !== null && typeof up.value === "object" && pointer !== "";
}

const responseSchemas: Record<Route, z.ZodType> = {
  gradients: GradientsResponse,
  expressions: ExpressionsResponse,
  train: TrainResponse,
  grade: z.union([GradeResponse, GradescopeResult, z.array(GradescopeResult)]),
  evaluate: EvaluateResponse,
};

const parse = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};

/** Everything wrong with the answer to a request; empty when it is a proper 4xx problem or a proper 200. */
export function violations(req: FuzzRequest, sent: Sent): string[] {
  if ("failure" in sent) return [`${sent.failure === "timeout" ? "hang" : "no response"}: ${sent.message}`];
  const { status, contentType, text } = sent;
  const out: string[] = [];
  if (status >= 500) out.push(`${status}: ${text.slice(0, 300)}`);
  if (status >= 400) {
    if (!contentType.startsWith("application/problem+json")) out.push(`${status} with content-type ${contentType}`);
    const parsed = parse(text);
    if (!parsed.ok) return [...out, `${status} body is not JSON: ${text.slice(0, 200)}`];
    const p = parsed.value as Record<string, unknown>;
    for (const field of ["type", "title", "detail"] as const) {
      if (typeof p[field] !== "string") out.push(`problem without a string ${field}`);
    }
    if (p.status !== status) out.push(`problem status ${String(p.status)} but HTTP ${status}`);
    if (p.errors !== undefined && !Array.isArray(p.errors)) out.push("problem errors is not an array");
    const body = parse(req.body);
    const isBodySchemaError =
      p.type === "urn:gradserve:problem:invalid-request" && String(p.detail).startsWith("Invalid body");
    for (const item of (Array.isArray(p.errors) ? p.errors : []) as { path?: unknown; message?: unknown }[]) {
      if (typeof item.message !== "string") out.push("problem error without a message");
      if (item.path === undefined) {
        if (isBodySchemaError) out.push("schema error without a path");
        continue;
      }
      if (typeof item.path !== "string" || !isJsonPointer(item.path)) {
        out.push(`errors[].path ${JSON.stringify(item.path)} is not a JSON pointer`);
      } else if (isBodySchemaError && body.ok && !pointsInto(body.value, item.path)) {
        out.push(`errors[].path ${item.path} does not point into the request`);
      }
    }
    return out;
  }
  if (status !== 200) return [...out, `unexpected status ${status}`];
  if (!contentType.startsWith("application/json")) out.push(`200 with content-type ${contentType}`);
  const parsed = parse(text);
  if (!parsed.ok) return [...out, `200 body is not JSON: ${text.slice(0, 200)}`];
  const checked = responseSchemas[req.route].safeParse(parsed.value);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    out.push(`200 body does not match the response schema at /${issue.path.join("/")}: ${issue.message}`);
  }
  return out;
}
