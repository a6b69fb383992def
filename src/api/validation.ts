import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";
import type { z } from "zod";
import { UnparsedBody } from "./json.js";
import { pointer } from "./problems.js";

/**
 * Validates with the route's zod schema and keeps each issue whole, path as an array: a key containing "/"
 * or "~" must still give a correct JSON pointer, and union issues keep every alternative for the problem body.
 * A body left unparsed passes through: it is validated against the same schema where it is parsed (tasks.ts),
 * so a route's handler receives either a valid body or an UnparsedBody, which it hands to compute unopened.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    if (data instanceof UnparsedBody) return { value: data };
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const errors: FastifySchemaValidationError[] = result.error.issues.map((issue) => ({
      keyword: issue.code,
      instancePath: pointer(issue.path),
      schemaPath: "",
      message: issue.message,
      params: { issue },
    }));
    return { error: errors as unknown as Error };
  };
