import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openapiDocument } from "../../src/api/openapi.js";
import { useApp } from "../support/app.js";

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: Schema | boolean;
};

/** Every property of every object schema, with its path, so that a test can require a description on each. */
function properties(schema: Schema, path: string): { path: string; schema: Schema }[] {
  const own = Object.entries(schema.properties ?? {}).flatMap(([key, s]) => [
    { path: `${path}.${key}`, schema: s },
    ...properties(s, `${path}.${key}`),
  ]);
  const nested = [
    ...(schema.items ? [schema.items] : []),
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
    ...(typeof schema.additionalProperties === "object" ? [schema.additionalProperties] : []),
  ].flatMap((s) => properties(s, path));
  return [...own, ...nested];
}

describe("the OpenAPI document", () => {
  const api = useApp();

  it("is committed as generated: run `npm run openapi` after changing a schema", () => {
    const committed = readFileSync(new URL("../../openapi/openapi.json", import.meta.url), "utf8");
    expect(openapiDocument(api.app)).toBe(committed);
  });

  it("is served at /openapi.json as OpenAPI 3.1", async () => {
    const res = await api.request().get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.paths["/v1/gradients"].post).toBeDefined();
  });

  it("describes every field of every request and response", () => {
    const doc = api.app.swagger() as unknown as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const undocumented: string[] = [];
    for (const [route, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const bodies = [
          ...Object.values((op.requestBody as { content?: Record<string, { schema: Schema }> })?.content ?? {}),
          ...Object.values(op.responses as Record<string, { content?: Record<string, { schema: Schema }> }>).flatMap(
            (r) => Object.values(r.content ?? {}),
          ),
        ];
        for (const media of bodies) {
          for (const p of properties(media.schema, `${method.toUpperCase()} ${route}`)) {
            if (!p.schema.description && !("$ref" in p.schema)) undocumented.push(p.path);
          }
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it.each([
    ["/v1/gradients", ["homework1", "homework2", "homework3", "explained"]],
    ["/v1/expressions", ["homework1", "homework2", "function", "neuron"]],
  ])("offers the homework problems as examples on %s, and each one computes", async (route, names) => {
    const doc = api.app.swagger() as unknown as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { examples: object }> } } }>;
    };
    const examples = doc.paths[route].post.requestBody.content["application/json"].examples as Record<
      string,
      { value: unknown }
    >;
    expect(Object.keys(examples)).toEqual(names);
    for (const { value } of Object.values(examples)) {
      const res = await api.post(route, value);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it("serves Swagger UI at /docs", async () => {
    const res = await api.request().get("/docs/").redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain("swagger-ui");
  });
});
