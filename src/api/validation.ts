import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";
import { z } from "zod";
import { UnparsedBody } from "./json.js";
import { pointer, UNCOUNTED } from "./problems.js";

/** Once per schema: the routes and the worker's parseTask validate with the same ones. */
const compiled = new WeakMap<z.ZodType, (data: unknown) => z.ZodSafeParseResult<unknown>>();

/**
 * Compiles a schema once (z.compile: generated code that checks a valid value in one pass, several times faster
 * than zod's interpreter, whose unions collect an issue per failed alternative); a value it rejects is parsed
 * again by the runtime schema, so every error message is the same as without it.
 */
export function compiledSchema<T>(schema: z.ZodType<T>): (data: unknown) => z.ZodSafeParseResult<T> {
  const known = compiled.get(schema);
  if (known) return known as (data: unknown) => z.ZodSafeParseResult<T>;
  const fast = z.compile(schema);
  const validate = (data: unknown) => {
    try {
      const result = fast.safeParse(data);
      return result.success ? result : schema.safeParse(data);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return firstIssues(schema, data);
    }
  };
  compiled.set(schema, validate);
  return validate;
}

/**
 * zod passes an array's issues up in one spread call, which overflows the call stack past about 120,000 wrong
 * entries in one array (a 6 MB body can hold that many). Such a body is parsed again in zod's abort-early mode
 * (what its own `validate` uses; reached through the parse context, which is internal: test/api/errors.test.ts
 * pins it), which stops at the first wrong entry, and its problem says there were more than could be counted.
 */
function firstIssues<T>(schema: z.ZodType<T>, data: unknown): z.ZodSafeParseResult<T> {
  const abortEarly = { abortEarly: true } as z.core.ParseContext<z.core.$ZodIssue>;
  const result = schema.safeParse(data, abortEarly);
  if (!result.success) result.error.issues.push(UNCOUNTED as z.core.$ZodIssue);
  return result;
}

/**
 * Validates with the route's zod schema and keeps each issue whole, path as an array: a key containing "/"
 * or "~" must still give a correct JSON pointer, and union issues keep every alternative for the problem body.
 * A body left unparsed passes through: it is validated against the same schema where it is parsed (tasks.ts),
 * so a route's handler receives either a valid body or an UnparsedBody, which it hands to compute unopened.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => {
  const validate = compiledSchema(schema);
  return (data) => {
    if (data instanceof UnparsedBody) return { value: data };
    const result = validate(data);
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
};
