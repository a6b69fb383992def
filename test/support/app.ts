import type { FastifyInstance } from "fastify";
import supertest from "supertest";
import { afterAll, beforeAll } from "vitest";
import { type AppOptions, buildApp } from "../../src/app.js";

/** One in-process app per test file, reached over real HTTP through supertest. */
export function useApp(options: AppOptions = {}) {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(options);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });
  return {
    get app() {
      return app;
    },
    request: () => supertest(app.server),
    post: (url: string, body: unknown) =>
      supertest(app.server)
        .post(url)
        .send(body as object),
  };
}
