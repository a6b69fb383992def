import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homeworkExamples } from "../../src/api/examples.js";
import { buildApp } from "../../src/app.js";

/**
 * End to end through a real browser: Swagger UI at /docs, "Try it out" on POST /v1/gradients with the
 * homework 1 example, "Execute", and the updated weights on the page. Debian's Chromium (apt package
 * `chromium`) is driven by playwright-core; where it is not installed the test is reported as skipped.
 */
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT = "test-results/swagger-ui.png";

type Matrix = number[][];

/** Homework 1 by hand: P = W·X, ∂L/∂W = 2(P − Y)·Xᵀ for L = ‖Y − P‖², W' = W − lr·∂L/∂W, in float64. */
function homework1Update(): { gradient: Matrix; updated: Matrix } {
  const { network, input: X, target: Y, learningRate } = homeworkExamples.homework1.value;
  const W = network.layers[0].weight;
  const matmul = (a: readonly (readonly number[])[], b: (k: number, j: number) => number, n: number) =>
    a.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, v, k) => s + v * b(k, j), 0)));
  const P = matmul(W, (k, j) => X[k][j], X[0].length);
  const R = P.map((row, i) => row.map((p, j) => 2 * (p - Y[i][j])));
  const gradient = matmul(R, (k, j) => X[j][k], X.length);
  const updated = W.map((row, i) => row.map((w, j) => w - learningRate * gradient[i][j]));
  return { gradient, updated };
}

describe.skipIf(!hasChromium)(
  `Swagger UI in Chromium (skipped: ${CHROMIUM} not found; apt-get install chromium)`,
  () => {
    let app: FastifyInstance;
    let origin: string;
    let profile: string;
    let context: BrowserContext;

    beforeAll(async () => {
      app = await buildApp();
      origin = await app.listen({ port: 0, host: "127.0.0.1" });
      profile = await mkdtemp(join(tmpdir(), "gradserve-chromium-"));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
        viewport: { width: 1280, height: 1600 },
      });
    }, 30_000);

    afterAll(async () => {
      await context?.close();
      await app?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    it("runs the homework 1 example of POST /v1/gradients and shows 200 with the updated weights", async () => {
      const { gradient, updated } = homework1Update();
      // The hand derivation is the homework's answer: ∂L/∂W ≈ [[0.4, 6.2], [6, 4.2]], W' ≈ [[0.26, −0.12], [−0.8, −0.02]].
      expect(gradient.flat().map((g) => Number(g.toPrecision(12)))).toEqual([0.4, 6.2, 6, 4.2]);
      expect(updated.flat().map((w) => Number(w.toPrecision(12)))).toEqual([0.26, -0.12, -0.8, -0.02]);

      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      try {
        await page.goto(`${origin}/docs`, { waitUntil: "load" });

        // The document declares a bearer scheme, so Swagger UI offers its Authorize button.
        await expect.poll(() => page.locator("button.authorize").count(), { timeout: 10_000 }).toBeGreaterThan(0);

        const operation = page.locator("#operations-gradients-post_v1_gradients");
        await operation.locator(".opblock-summary").first().click();
        await operation.getByRole("button", { name: "Try it out" }).click();

        // The body editor starts with the first example, homework 1.
        const editor = operation.locator("textarea.body-param__text");
        await editor.waitFor({ timeout: 10_000 });
        expect(JSON.parse(await editor.inputValue())).toEqual(homeworkExamples.homework1.value);

        await operation.getByRole("button", { name: "Execute" }).click();
        const status = operation.locator(".live-responses-table .response .response-col_status").first();
        await status.waitFor({ timeout: 10_000 });
        // biome-ignore lint/performance/useDomNodeTextContent: the test reads the page as it is rendered
        expect((await status.innerText()).trim()).toBe("200");

        const bodyText = await operation
          .locator(".live-responses-table .response-col_description .microlight, .live-responses-table pre.microlight")
          .first()
          // biome-ignore lint/performance/useDomNodeTextContent: the test reads the page as it is rendered
          .innerText();
        // Every updated weight, to the last float64 digit, appears in the page's response body...
        for (const w of updated.flat()) expect(bodyText).toContain(String(w));
        // ...and is where it belongs.
        const body = JSON.parse(bodyText) as { updatedNetwork: { layers: { weight: Matrix }[] } };
        expect(body.updatedNetwork.layers[0].weight).toEqual(updated);

        // The artifact shows the server's response: status 200 and the body scrolled down to updatedNetwork.
        const response = operation.locator(".live-responses-table").first();
        await response
          .locator("pre.microlight")
          .first()
          .evaluate((pre) => {
            type Box = { scrollTop: number; scrollHeight: number; parentElement: Box | null };
            for (let el: Box | null = pre as unknown as Box; el; el = el.parentElement) el.scrollTop = el.scrollHeight;
          });
        await response.scrollIntoViewIfNeeded();
        await mkdir("test-results", { recursive: true });
        await response.screenshot({ path: SCREENSHOT });
        expect(pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 30_000);
  },
);
