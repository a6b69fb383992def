import { once } from "node:events";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { homework1Problem } from "../../src/api/examples.js";
import { NGINX, type RunningNginx, startNginx } from "../support/nginx.js";
import { type Running, startServer } from "../support/server.js";

/**
 * Scale-out as shipped: two real instances behind nginx running deploy/nginx/gradserve.conf (the compose
 * wrapper, with its `server api:3000` line swapped for the two loopback instances) and so
 * deploy/nginx/proxy.conf. Several clients POST homework 1 through nginx for a few seconds; one instance is
 * killed mid-run; every request must still get 200 with the right numbers, because nginx retries a request
 * whose instance failed on the other one (proxy_next_upstream ... non_idempotent: our POSTs are pure).
 */

const haveNginx = existsSync(NGINX);

const homework1 = { ...homework1Problem, learningRate: 0.1 };
const body = JSON.stringify(homework1);

interface Outcome {
  readonly id: string;
  readonly started: number;
  readonly ended: number;
  readonly status: number;
  readonly echoedId: string | null;
  readonly loss?: number;
  readonly gradient?: number[][];
  readonly error?: string;
}

/** `clients` loops, each POSTing homework 1 one request after another until `ms` have passed. */
async function drive(origin: string, clients: number, ms: number, tag: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const end = Date.now() + ms;
  let n = 0;
  const client = async () => {
    while (Date.now() < end && n < 50_000) {
      const id = `${tag}-${n++}`;
      const started = Date.now();
      try {
        const res = await fetch(`${origin}/v1/gradients`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": id },
          body,
        });
        const json = (await res.json()) as { loss?: number; gradients?: { layer1: { weight: number[][] } } };
        outcomes.push({
          id,
          started,
          ended: Date.now(),
          status: res.status,
          echoedId: res.headers.get("x-request-id"),
          ...(json.loss === undefined ? {} : { loss: json.loss }),
          ...(json.gradients === undefined ? {} : { gradient: json.gradients.layer1.weight }),
        });
      } catch (err) {
        outcomes.push({ id, started, ended: Date.now(), status: 0, echoedId: null, error: String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return outcomes;
}

const hostPort = (r: Running) => new URL(r.origin).host;

describe.skipIf(!haveNginx)(
  `scale-out: two instances behind nginx with deploy/nginx${haveNginx ? "" : ` (skipped: ${NGINX} is missing; apt-get install nginx)`}`,
  () => {
    let instances: Running[] = [];
    let nginx: RunningNginx | undefined;

    afterEach(async () => {
      for (const s of instances) {
        if (s.process.exitCode === null && s.process.signalCode === null) {
          const exited = once(s.process, "exit");
          s.process.kill("SIGKILL");
          await exited;
        }
      }
      instances = [];
      await nginx?.stop();
      nginx = undefined;
    });

    async function cluster(): Promise<{ a: Running; b: Running; proxy: RunningNginx }> {
      // Load shedding is off: on a busy 2-core CI machine a lagging event loop would answer 503 "overloaded",
      // which is the shedding policy at work (tested in test/api/protection.test.ts), not a lost request.
      const env = { LOG_LEVEL: "warn", LOAD_SHED_EVENT_LOOP_DELAY_MS: "0" };
      instances = await Promise.all([startServer(env), startServer(env)]);
      const [a, b] = instances as [Running, Running];
      nginx = await startNginx([hostPort(a), hostPort(b)]);
      return { a, b, proxy: nginx };
    }

    /**
     * Runs the load, sends `signal` to instance a a third of the way through, and checks that nothing was
     * lost: every request answered 200 with homework 1's numbers and its own request id, every one logged
     * by nginx with status 200, both instances served before the signal, and only b once a had exited.
     */
    async function loseNothing(signal: NodeJS.Signals) {
      const { a, b, proxy } = await cluster();
      const loadMs = 3_000;
      const exitedA = once(a.process, "exit").then(([code, sig]) => ({ code, sig, at: Date.now() }));
      let signalledAt = 0;
      const killer = new Promise<void>((done) =>
        setTimeout(() => {
          signalledAt = Date.now();
          a.process.kill(signal);
          done();
        }, loadMs / 3),
      );
      const outcomes = await drive(proxy.origin, 6, loadMs, signal.toLowerCase());
      await killer;
      const exit = await exitedA;

      const failed = outcomes.filter((o) => o.status !== 200 || o.loss !== 3.3 || o.echoedId !== o.id);
      if (failed.length > 0) {
        await new Promise((r) => setTimeout(r, 500));
        const lines = proxy.accessLog().filter((l) => failed.some((o) => o.id === l.reqId));
        const why = [JSON.stringify(lines.slice(0, 5)), proxy.output(), a.output(), b.output()].join("\n");
        expect(failed.slice(0, 5), `${failed.length} of ${outcomes.length} lost\n${why}`).toEqual([]);
      }
      for (const o of outcomes) {
        expect(o.gradient).toEqual([
          [0.40000000000000036, 6.2],
          [6, 4.200000000000001],
        ]);
      }

      // nginx's access log names the instance(s) behind every request; the last one tried is the one that answered.
      // nginx writes a line once the response has gone out, so the last lines may come a moment after it.
      await expect.poll(() => proxy.accessLog().length, { timeout: 5_000 }).toBeGreaterThanOrEqual(outcomes.length);
      const log = new Map(
        proxy
          .accessLog()
          .filter((l) => l.uri === "/v1/gradients")
          .map((l) => [l.reqId, l]),
      );
      const servedBy = (o: Outcome) => log.get(o.id)?.upstream.split(", ").at(-1);
      for (const o of outcomes) expect(log.get(o.id)?.status, o.id).toBe(200);
      const before = outcomes.filter((o) => o.ended < signalledAt);
      const count = (os: Outcome[], who: Running) => os.filter((o) => servedBy(o) === hostPort(who)).length;
      const retried = outcomes.filter((o) => (log.get(o.id)?.upstream ?? "").includes(","));
      const afterExit = outcomes.filter((o) => o.started > exit.at);
      const summary = {
        signal,
        requests: outcomes.length,
        beforeSignal: { a: count(before, a), b: count(before, b) },
        total: { a: count(outcomes, a), b: count(outcomes, b) },
        retriedOnTheOther: retried.length,
        afterAExited: afterExit.length,
        aExit: exit.sig ?? exit.code,
        aExitedAfterMs: exit.at - signalledAt,
      };
      console.log(`scale-out ${JSON.stringify(summary)}`);

      expect(outcomes.length).toBeGreaterThan(100);
      expect(summary.beforeSignal.a, "instance a served before the signal").toBeGreaterThan(0);
      expect(summary.beforeSignal.b, "instance b served before the signal").toBeGreaterThan(0);
      expect(summary.total.a + summary.total.b).toBe(outcomes.length);
      expect(afterExit.length, "the load went on after a exited").toBeGreaterThan(0);
      for (const o of afterExit) expect(servedBy(o), o.id).toBe(hostPort(b));
      return { summary, retried, exit, b };
    }

    it("loses no request when an instance is SIGKILLed mid-run (nginx retries its POSTs on the other)", async () => {
      const { summary, retried, exit } = await loseNothing("SIGKILL");
      expect(exit.sig).toBe("SIGKILL");
      // Requests nginx had sent to the dead instance (or tried to) were answered by the other one.
      expect(retried.length).toBeGreaterThan(0);
      expect(summary.total.b).toBeGreaterThan(summary.total.a);
    }, 60_000);

    it("loses no request when an instance is SIGTERMed mid-run (it drains, nginx moves to the other)", async () => {
      const { exit } = await loseNothing("SIGTERM");
      expect(exit.code, instances[0]?.output()).toBe(0);
      expect(exit.at).toBeGreaterThan(0);
    }, 60_000);

    it("answers its own errors as problem+json: 413 above BODY_LIMIT, 503 when no instance is left", async () => {
      const { a, b, proxy } = await cluster();
      const ok = await fetch(`${proxy.origin}/v1/gradients`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(ok.status).toBe(200);
      // Without a client id, nginx makes one and the app uses it: both logs carry the same id.
      const generated = ok.headers.get("x-request-id");
      expect(generated).toMatch(/^[0-9a-f]{32}$/);
      await expect.poll(() => proxy.accessLog().some((l) => l.reqId === generated)).toBe(true);
      expect((await (await fetch(`${proxy.origin}/healthz`)).json()) as unknown).toEqual({ status: "ok" });

      // client_max_body_size is the app's default BODY_LIMIT, 16 MiB: one byte more is refused by nginx.
      const tooLarge = await fetch(`${proxy.origin}/v1/gradients`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `"${"x".repeat(16 * 1024 * 1024 - 1)}"`,
      });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers.get("content-type")).toBe("application/problem+json");
      expect(((await tooLarge.json()) as { type: string }).type).toBe("urn:gradserve:problem:body-too-large");

      for (const s of [a, b]) {
        const exited = once(s.process, "exit");
        s.process.kill("SIGKILL");
        await exited;
      }
      const none = await fetch(`${proxy.origin}/v1/gradients`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(none.status).toBe(503);
      expect(none.headers.get("retry-after")).toBe("1");
      expect(none.headers.get("content-type")).toBe("application/problem+json");
      expect(await none.json()).toMatchObject({ type: "urn:gradserve:problem:unavailable", status: 503 });
    }, 60_000);
  },
);
