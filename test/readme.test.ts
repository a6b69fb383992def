import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { readmePictures, sigmoidChain } from "./support/readme.js";

const run = promisify(execFile);
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** Every ```sh block that runs curl, paired with the ```json block that follows it. */
function curlExamples(): { command: string; expected: unknown }[] {
  const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
  return blocks.flatMap((block, i) => {
    const next = blocks[i + 1];
    if (block.lang !== "sh" || !block.text.trimStart().startsWith("curl") || next?.lang !== "json") return [];
    return [{ command: block.text.trim(), expected: JSON.parse(next.text) }];
  });
}

describe("the README's curl examples, against a live server", () => {
  let app: FastifyInstance;
  let origin: string;
  beforeAll(async () => {
    app = await buildApp();
    origin = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(() => app.close());

  const examples = curlExamples();

  it("has the homework examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((e, i) => [i + 1, e] as const))(
    "example %i prints what the README shows",
    async (_i, example) => {
      const command = example.command.replaceAll("http://localhost:3000", origin);
      expect(command).not.toBe(example.command);
      const { stdout } = await run("sh", ["-c", command]);
      expect(JSON.parse(stdout)).toEqual(example.expected);
    },
  );

  it.each(readmePictures)(
    "%s is what the service draws now (npm run readme:examples redraws it)",
    async (file, format) => {
      const res = await fetch(`${origin}/v1/gradients`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...sigmoidChain, format }),
      });
      expect(res.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
      expect(await res.text()).toBe(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"));
    },
  );
});
