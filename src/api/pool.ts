import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { Piscina } from "piscina";
import type { Limits } from "./limits.js";
import type { Task, UnparsedTask } from "./tasks.js";
import type { WorkerReply } from "./worker.js";

export interface PoolOptions {
  /** Worker threads; 0 runs everything on the event loop (no isolation, no deadline). */
  readonly threads: number;
  /** Tasks that may wait for a thread; more are refused with 503. */
  readonly queue: number;
  /** A task still running after this long is ended (its thread is terminated) with 504. */
  readonly deadlineMs: number;
  /**
   * Estimated work above which a request runs in the pool: its floating-point operations and each node's own cost
   * (nodeWork, cost.ts).
   */
  readonly offloadAboveFlops: number;
  /** Body bytes above which a compute request is parsed, validated and computed in the pool. */
  readonly offloadAboveBytes: number;
}

/** One core stays free for the event loop, so that small requests keep flowing while heavy ones compute. */
export const defaultPool: PoolOptions = {
  threads: Math.max(1, availableParallelism() - 1),
  queue: 64,
  deadlineMs: 30_000,
  offloadAboveFlops: 2e7,
  // Parsing and validating a body costs the event loop ~20 ms a MiB when it is valid, but ~0.3 ms a KiB when every
  // number in it is wrong (zod reports each one): 64 KiB bounds that at ~20 ms. Homework bodies are under 1 KiB.
  offloadAboveBytes: 64 * 1024,
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

/**
 * What a worker is given: a request validated on the event loop, or one still in its bytes, with a port for
 * its answer in pieces.
 */
export type PoolTask = { readonly parsed: Task } | { readonly unparsed: UnparsedTask; readonly pieces?: MessagePort };

/** Receives a large answer's pieces as the worker serializes them; null after the last. */
export type PieceSink = (piece: Uint8Array | null) => void;

/**
 * The nice value of the pool's threads: a heavy computation yields a shared core to the event loop (and, on a
 * small machine, to whatever else runs there), so that homework requests do not wait for a time slice while it
 * runs. Lowering a thread's priority needs no privilege.
 */
export const POOL_THREAD_NICE = 10;

/** What the worker needs to know of the service's configuration. */
export interface WorkerSettings {
  readonly limits: Limits;
  /** Its thread's nice value (on Linux, where each thread has its own). */
  readonly nice: number;
}

export interface ComputePool {
  /** With `pieces`, an unparsed task's large answer goes there, and the reply says it was streamed. */
  run(task: PoolTask, pieces?: PieceSink): Promise<WorkerReply>;
  close(): Promise<void>;
}

/** A body's bytes move to the worker without a copy when nothing else shares their memory. */
function transferable(task: PoolTask): (ArrayBuffer | MessagePort)[] {
  if (!("unparsed" in task)) return [];
  const { bytes } = task.unparsed;
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const body = whole && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
  return task.pieces ? [...body, task.pieces] : body;
}

/**
 * A task's deadline, as an AbortSignal for piscina, that can be called off: a computation's time is bounded,
 * but once its answer has begun to stream, ending the task would only cut the answer short.
 */
export function deadline(ms: number): { readonly signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("deadline", "TimeoutError")), ms);
  return { signal: controller.signal, stop: () => clearTimeout(timer) };
}

/**
 * A channel for an answer's pieces. Its messages and the task's reply travel on different ports, in no
 * particular order between them, so a streamed reply counts as done only once the last piece (null) is in.
 */
function pieceChannel(sink: PieceSink) {
  const { port1, port2 } = new MessageChannel();
  const ended = new Promise<void>((resolve) => {
    port1.on("message", (piece: Uint8Array | null) => {
      sink(piece);
      if (piece === null) resolve();
    });
  });
  return { port: port2, ended, close: () => port1.close() };
}

const here = new URL(import.meta.url);
/** The workers' module: worker.js as built, or the TypeScript source through tsx when this is the source. */
const workerModule = new URL(here.pathname.endsWith(".ts") ? "./worker-from-source.mjs" : "./worker.js", here).href;

/**
 * `onWorkerError` hears of a worker that failed outside any task (while starting, say): piscina reports that as
 * an 'error' event on the pool, which would end the process if nothing listened. `filename` is the workers'
 * module (worker.ts unless a test gives another).
 */
export function createPool(
  options: PoolOptions,
  settings: WorkerSettings,
  onWorkerError: (error: Error) => void,
  filename = workerModule,
): ComputePool {
  const piscina = new Piscina({
    filename,
    minThreads: 0,
    maxThreads: options.threads,
    // An idle worker exits after a few seconds and gives its heap back; a new one starts in a few hundred ms.
    idleTimeout: 5_000,
    workerData: settings,
    // Between tasks a worker waits on its event loop instead of blocking in Atomics.wait, so that the
    // collection a large task schedules for after its answer (worker.ts) runs while the thread is idle.
    atomics: "async",
    // V8 lets a thread's young generation grow to 3 × 16 MiB of RSS; parsing and building a large request's
    // values keeps it there for the thread's life. Large buffers and strings live outside it anyway.
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  piscina.on("error", onWorkerError);
  // Counted here rather than left to piscina's queue, whose capacity also counts threads still starting.
  let admitted = 0;
  return {
    async run(task, pieces) {
      if (admitted >= options.threads + options.queue) {
        throw new PoolRefusal(
          "queue-full",
          `${options.queue} heavy computations are already waiting (POOL_QUEUE); retry shortly`,
        );
      }
      admitted++;
      const due = deadline(options.deadlineMs);
      // The first piece means the computation is done and only its answer is still being written.
      const channel =
        pieces && "unparsed" in task
          ? pieceChannel((piece) => {
              due.stop();
              pieces(piece);
            })
          : undefined;
      const message = channel ? { ...task, pieces: channel.port } : task;
      try {
        const reply: WorkerReply = await piscina.run(message, {
          signal: due.signal,
          transferList: transferable(message),
        });
        if ("streamed" in reply) await channel?.ended;
        return reply;
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
        due.stop();
        admitted--;
        channel?.close();
      }
    },
    // Graceful: tasks already running finish first (a server draining on SIGTERM waits for them anyway).
    close: () => piscina.close(),
  };
}
