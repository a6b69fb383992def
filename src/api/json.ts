import type { FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";
import { rawBodies } from "./cache.js";
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

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  return { line, column: position - before.lastIndexOf("\n") };
}

/**
 * Fastify's own JSON parser drops the reason a body failed to parse; this one keeps it and the line and
 * column, and rejects __proto__ and constructor.prototype keys (prototype poisoning) as fastify does.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    rawBodies.set(request, text);
    if (text.trim() === "") {
      done(new MalformedJson("The body is empty; send a JSON object", { message: "empty body" }), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, null, { protoAction: "error", constructorAction: "error" }));
    } catch (e) {
      const message = (e as Error).message;
      const position = /position (\d+)/.exec(message);
      const where = position ? lineAndColumn(text, Number(position[1])) : {};
      done(new MalformedJson(`The body is not valid JSON: ${message}`, { ...where, message }), undefined);
    }
  });
}
