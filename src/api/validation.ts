import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";
import type { z } from "zod";
import { pointer } from "./problems.js";

/**
 * Validates with the route's zod schema and keeps each issue whole, path as an array: a key containing "/"
 * or "~" must still give a correct JSON pointer, and union issues keep every alternative for the problem body.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
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
