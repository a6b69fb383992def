import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";

const run = promisify(execFile);
const example = (p: string) => fileURLToPath(new URL(`../examples/autograder/${p}`, import.meta.url));
const script = example("grade.mjs");

interface Test {
  name: string;
  score: number;
  max_score: number;
  output: string;
}

// examples/autograder/problem.json is homework 1 with lr 0.1, graded on /loss (1 point), the gradient (2) and the
// updated weight (2). By hand: L = 3.3, ∇L = −2 (Y − WX) Xᵀ = [[0.4, 6.2], [6, 4.2]], W − 0.1∇L = [[0.26, −0.12],
// [−0.8, −0.02]].
//   alice: all three right (3.3; [[0.4, 6.2], [6.0, 4.2]]; [[0.26, −0.12], [−0.8, −0.02]]): 5/5.
//   bob: gradient [[0.4, 6.0], [6.2, 4.2]] is ∇Lᵀ; update [[0.34, 1.12], [0.4, 0.82]] = W + 0.1∇L (with the true
//        gradient: 0.3 + 0.04, 0.5 + 0.62, −0.2 + 0.6, 0.4 + 0.42): the wrong sign. Only the loss: 1/5.
//   carol: gradient (1, 2) is 6.3 instead of 6.2 (0.1 off, 1.6% > the 1% tolerance); no update: missing. 1/5.
const WRONG_SIGN = "the update has the wrong sign: this is W + lr·∇L, but gradient descent takes W − lr·∇L";

describe("examples/autograder/grade.mjs against a live server", () => {
  let app: FastifyInstance;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    app = await buildApp();
    await app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "gradserve-autograder-"));
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const grade = (problem: string, results: string) =>
    run(process.execPath, [script, problem, example("submissions"), results], {
      env: { ...process.env, GRADSERVE_URL: url, GRADSERVE_API_KEY: "" },
      timeout: 10_000,
    });
  const results = async (name: string): Promise<{ score: number; tests: Test[] }> =>
    JSON.parse(await readFile(join(dir, "results", name, "results.json"), "utf8"));

  it("grades every submission into results/NAME/results.json", async () => {
    const { stdout } = await grade(example("problem.json"), join(dir, "results"));
    expect(stdout.trim().split("\n")).toEqual(["alice\t5/5", "bob\t1/5", "carol\t1/5"]);

    const alice = await results("alice");
    expect(alice).toEqual({
      score: 5,
      tests: [
        { name: "/loss", score: 1, max_score: 1, output: "correct" },
        { name: "/gradients/layer1/weight", score: 2, max_score: 2, output: "correct" },
        { name: "/updatedNetwork/layers/0/weight", score: 2, max_score: 2, output: "correct" },
      ],
    });

    const bob = await results("bob");
    expect(bob).toEqual({
      score: 1,
      tests: [
        { name: "/loss", score: 1, max_score: 1, output: "correct" },
        { name: "/gradients/layer1/weight", score: 0, max_score: 2, output: "this is the transpose of the answer" },
        { name: "/updatedNetwork/layers/0/weight", score: 0, max_score: 2, output: WRONG_SIGN },
      ],
    });

    const carol = await results("carol");
    expect(carol.score).toBe(1);
    expect(carol.tests.map((t) => [t.name, t.score, t.max_score])).toEqual([
      ["/loss", 1, 1],
      ["/gradients/layer1/weight", 0, 2],
      ["/updatedNetwork/layers/0/weight", 0, 2],
    ]);
    expect(carol.tests[0].output).toBe("correct");
    const off = /^entry \(1, 2\): expected (\S+), got 6\.3 \(off by 0\.1\)$/.exec(carol.tests[1].output);
    expect(off, carol.tests[1].output).not.toBeNull();
    expect(Math.abs(Number(off?.[1]) - 6.2)).toBeLessThan(1e-14);
    expect(carol.tests[2].output).toBe("missing: this item was not submitted");
  });

  it("exits 1 with the server's complaint when the request is bad", async () => {
    const bad = join(dir, "bad-problem.json");
    await writeFile(bad, JSON.stringify({ items: ["/loss"] }));
    const failure = await grade(bad, join(dir, "never")).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^gradserve answered 400: /);
  });

  it("exits 2 with its usage when arguments are missing", async () => {
    const failure = await run(process.execPath, [script], { timeout: 10_000 }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/usage: grade\.mjs problem\.json submissions-dir results-dir/);
  });
});
