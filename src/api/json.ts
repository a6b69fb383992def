import type { FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";
import { positionAt } from "../core/errors.js";
import { jsonNumbers, type ReadLists } from "../core/kernels/json-numbers.js";
import type { KnownAnswers } from "./cache.js";
import type { ProblemItem } from "./problems.js";

/** A JSON body that cannot be parsed, with where the parser stopped. */
export class MalformedJson extends Error {
  constructor(
    message: string,
    readonly item: ProblemItem,
  ) {
    super(message);
  }
}

/**
 * A body left as bytes because parsing it would hold the event loop for milliseconds: the worker pool parses,
 * validates and computes it, so that the event loop only moves bytes (see installJsonParser).
 */
export class UnparsedBody {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * Whether secure-json-parse has anything to look for. Its two regular expressions scan the whole text, which
 * costs milliseconds on a 6 MB body; a forbidden key is either written out or uses a \u00XX escape, and a byte
 * order mark is its to strip, so text with none of those parses as plain JSON.parse would parse it.
 */
function suspect(text: string): boolean {
  return (
    text.charCodeAt(0) === 0xfeff ||
    text.includes("__proto__") ||
    text.includes("constructor") ||
    text.includes("\\u00")
  );
}

/**
 * Fastify's own JSON parser drops the reason a body failed to parse; this one keeps it and the line and
 * column, and rejects __proto__ and constructor.prototype keys (prototype poisoning) as fastify does.
 */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw new MalformedJson("The body is empty; send a JSON object", { message: "empty body" });
  try {
    return suspect(text)
      ? secureJson.parse(text, null, { protoAction: "error", constructorAction: "error" })
      : JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const position = /position (\d+)/.exec(message);
    const where = position ? positionAt(text, Number(position[1])) : {};
    throw new MalformedJson(`The body is not valid JSON: ${message}`, { ...where, message });
  }
}

const textOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");

/** List k's placeholder as JSON.parse gives it back: U+E000 and k's digits; k when `value` is one. */
function placeholderIndex(value: unknown): number | undefined {
  if (typeof value !== "string" || value.charCodeAt(0) !== 0xe000) return undefined;
  return Number(value.slice(1));
}

/** The parsed text with every list placeholder replaced by its list (walked without recursion: any depth). */
function withLists(root: unknown, read: ReadLists): unknown {
  const rootIndex = placeholderIndex(root);
  if (rootIndex !== undefined) return read.list(rootIndex);
  const pending: object[] = root !== null && typeof root === "object" ? [root] : [];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const holder = node as Record<string, unknown>;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      const value = holder[key];
      const index = placeholderIndex(value);
      if (index !== undefined) holder[key] = read.list(index);
      else if (value !== null && typeof value === "object") pending.push(value);
    }
  }
  return root;
}

/**
 * parseJson of a UTF-8 body: the same value, or the same error. Its number lists are read by the WebAssembly
 * reader (core/kernels/json-numbers.ts: exactly JSON.parse's numbers, twice as fast), the rest of the text by
 * parseJson, and each list is put back where it was. Where the reader cannot run or the rest does not parse,
 * the whole text goes through parseJson, so that an error says where it is in the text as sent.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  const read = jsonNumbers()?.read(bytes);
  if (!read || read.lists === 0) return parseJson(textOf(bytes));
  let rest: unknown;
  try {
    rest = parseJson(read.text);
  } catch {
    return parseJson(textOf(bytes));
  }
  return withLists(rest, read);
}

/** Which bodies stay bytes: those over `aboveBytes` sent to one of `urls` (the routes that take them). */
export interface UnparsedBodies {
  readonly aboveBytes: number;
  readonly urls: ReadonlySet<string>;
}

/**
 * The JSON body parser: a large body sent to a compute route stays bytes for the worker pool, a body whose
 * answer the response cache keeps is not parsed at all, and any other is parsed by parseJson.
 */
export function installJsonParser(
  app: FastifyInstance,
  { unparsed, known }: { unparsed: UnparsedBodies | null; known: KnownAnswers | null },
): void {
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bytes = body as Buffer;
    if (unparsed && bytes.length > unparsed.aboveBytes && unparsed.urls.has(request.routeOptions.url ?? "")) {
      // Its answer may be kept all the same (a UTF-8 body has at least as many bytes as characters); its text is
      // the key, so it is made only for a body short enough to be kept.
      if (known && bytes.length <= known.largestBody && known(request, bytes.toString("utf8"))) done(null, undefined);
      else done(null, new UnparsedBody(bytes));
      return;
    }
    const text = bytes.toString("utf8");
    // The response cache answers it before validation (cache.ts): parsing it would be wasted.
    if (known?.(request, text)) {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJson(text));
    } catch (e) {
      done(e as MalformedJson, undefined);
    }
  });
}
