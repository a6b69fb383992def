import { z } from "zod";

export const ProblemDetails = z
  .object({
    type: z.string().describe("A URN naming the kind of problem, such as urn:gradserve:problem:shape-mismatch"),
    title: z.string().describe("A short summary of that kind of problem"),
    status: z.number().int().describe("The HTTP status code"),
    detail: z.string().describe("What is wrong with this request, in one sentence"),
    instance: z.string().optional().describe("The request path"),
    errors: z
      .array(
        z.object({
          path: z.string().optional().describe("JSON pointer to the offending field, such as /network/layers/1/weight"),
          line: z.number().int().optional().describe("Line in expression text (1-based)"),
          column: z.number().int().optional().describe("Column in expression text (1-based)"),
          message: z.string().describe("What is wrong there and what was expected"),
        }),
      )
      .max(100)
      .describe("The problems found, each with where it is: the first 100 (detail counts them all)"),
  })
  .meta({ id: "ProblemDetails", description: "RFC 9457 problem details (media type application/problem+json)" });

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemDetails } },
});

/** The error responses every compute route can give. */
export const problemResponses = {
  400: problemResponse("The body is not valid JSON or does not match the schema"),
  413: problemResponse("The body exceeds the configured size limit"),
  422: problemResponse("Valid JSON that cannot be computed: shapes that do not fit, or a non-finite result"),
};
