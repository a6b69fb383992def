import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { CoreError } from "../core/errors.js";
import type { Task, TaskResult } from "./tasks.js";
import type { WorkerReply } from "./worker.js";

export interface PoolOptions {
  /** Worker threads; 0 runs everything on the event loop (no isolation, no deadline). */
  readonly threads: number;
  /** Tasks that may wait for a thread; more are refused with 503. */
  readonly queue: number;
  /** A task still running after this long is ended (its thread is terminated) with 504. */
  readonly deadlineMs: number;
  /** Estimated floating-point operations above which a request runs in the pool. */
  readonly offloadAboveFlops: number;
}

/** One core stays free for the event loop, so that small requests keep flowing while heavy ones compute. */
export const defaultPool: PoolOptions = {
  threads: Math.max(1, availableParallelism() - 1),
  queue: 64,
  deadlineMs: 30_000,
  offloadAboveFlops: 2e7,
};

/** Thrown for a task that could not run: the queue is full, or the deadline passed. */
export class PoolRefusal extends Error {
  constructor(
    readonly reason: "queue-full" | "deadline-exceeded",
    message: string,
  ) {
    super(message);
  }
}

export interface ComputePool {
  run(task: Task): Promise<TaskResult>;
  close(): Promise<void>;
}

export function createPool(options: PoolOptions): ComputePool {
  const here = new URL(import.meta.url);
  const fromSource = here.pathname.endsWith(".ts");
  const piscina = new Piscina({
    filename: new URL(fromSource ? "./worker-from-source.mjs" : "./worker.js", here).href,
    minThreads: 0,
    maxThreads: options.threads,
    // An idle worker exits after a few seconds and gives its heap back; a new one starts in a few hundred ms.
    idleTimeout: 5_000,
  });
  // Counted here rather than left to piscina's queue, whose capacity also counts threads still starting.
  let admitted = 0;
  return {
    async run(task) {
      if (admitted >= options.threads + options.queue) {
        throw new PoolRefusal(
          "queue-full",
          `${options.queue} heavy computations are already waiting (POOL_QUEUE); retry shortly`,
        );
      }
      admitted++;
      let reply: WorkerReply;
      try {
        reply = await piscina.run(task, { signal: AbortSignal.timeout(options.deadlineMs) });
      } catch (e) {
        const err = e as Error;
        if (err.name === "AbortError" || err.name === "TimeoutError") {
          throw new PoolRefusal(
            "deadline-exceeded",
            `The computation was stopped after ${options.deadlineMs} ms (COMPUTE_DEADLINE_MS); make it smaller or raise the deadline`,
          );
        }
        throw e;
      } finally {
        admitted--;
      }
      if ("error" in reply) throw new CoreError(reply.error.kind, reply.error.message, reply.error.origin);
      return reply.ok;
    },
    // Graceful: tasks already running finish first (a server draining on SIGTERM waits for them anyway).
    close: () => piscina.close(),
  };
}
