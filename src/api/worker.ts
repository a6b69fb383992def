/**
 * A worker of the compute pool: runs heavy tasks off the event loop with the same code as the event loop,
 * parsing and validating a body left unparsed, and serializing the answer, so that the event loop only moves
 * bytes. A client's error crosses back as its problem body, since errors lose their class when cloned.
 */
import { getPriority, setPriority } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { MessagePort } from "node:worker_threads";
import { move, transferableSymbol, valueSymbol, workerData } from "piscina";
import { configureWasmGemm } from "../core/kernels/gemm-wasm.js";
import type { Picture } from "./analysis.js";
import { budget } from "./budget.js";
import { jsonPieces } from "./json-pieces.js";
import type { PoolTask, WorkerSettings } from "./pool.js";
import { clientProblem, type Problem } from "./problems.js";
import { parseTask, runTask } from "./tasks.js";

export type WorkerReply =
  | { readonly json: Uint8Array }
  /** The answer went through the task's port in pieces, the last followed by null. */
  | { readonly streamed: true }
  | { readonly picture: Picture }
  | { readonly problem: Problem };

/** Bytes in a piece of a streamed answer: few messages, and the first on the socket within a few ms. */
const PIECE = 256 * 1024;

// The pool already keeps every core busy with one task each: a product split across more threads would only
// take a core from another task, or from the event loop.
await configureWasmGemm({ threads: 1 });

// Admission again here: a body parsed here has not been admitted, and for one that has, it costs microseconds.
const settings = workerData as WorkerSettings;
const inWorker = budget(settings.limits, null);

// Linux keeps a nice value per thread, and setPriority(0, …) sets the calling thread's (elsewhere it would be
// the whole process's, the event loop's included, so it is left alone there). Only ever lowered: a process
// started nicer than that (nice -n 15, systemd's Nice=) may not raise a thread's priority, and the refusal
// would end the worker.
if (process.platform === "linux") {
  try {
    setPriority(0, Math.max(getPriority(0), settings.nice));
  } catch {
    // Left at the process's priority.
  }
}

/**
 * A large request leaves tens of MB of garbage in this thread's heap, which V8 keeps, and the process's RSS
 * with it, until a full collection it has no reason to start soon. So once this thread has been idle for a
 * while after one, it collects, and the memory goes back to the system. Not right after the task: that
 * collection takes ~10 ms of a core, which the event loop and the client still need to move the answer, and
 * large requests that follow each other would each pay it, where V8 manages the heap well on its own.
 */
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;
/** A task whose body or answer is larger than this (or whose answer was streamed) owes a collection. */
const COLLECT_AFTER_BYTES = 1024 * 1024;
/** Idle time after which an owed collection runs: a client's next request is usually in by then. */
const COLLECT_WHEN_IDLE_MS = 500;
let collectionOwed = false;
let idle: NodeJS.Timeout | undefined;

function collectWhenIdle(): void {
  if (!collectionOwed) return;
  idle = setTimeout(() => {
    collectionOwed = false;
    collect();
  }, COLLECT_WHEN_IDLE_MS);
}

/** Moved to the event loop rather than copied, as a cloned string would be once into the message and once out. */
function moved(reply: { json: Uint8Array }): WorkerReply {
  return move({ [transferableSymbol]: reply.json.buffer, [valueSymbol]: reply }) as unknown as WorkerReply;
}

/** The answer as UTF-8 bytes that own their memory (a short text is a slice of Buffer's shared pool). */
function utf8(text: string): Uint8Array {
  const encoded = Buffer.from(text);
  return encoded.byteLength === encoded.buffer.byteLength ? encoded : new Uint8Array(encoded);
}

/**
 * The answer's JSON as bytes. With a port (a large request's), an answer of more than one piece goes through
 * it piece by piece as it is serialized, so that the event loop is sending the first while the rest are
 * being written; an answer of one piece comes back whole, as without a port.
 */
function answer(value: unknown, port: MessagePort | undefined): { json: Uint8Array } | { streamed: true } {
  if (!port) return { json: utf8(JSON.stringify(value)) };
  let first: Uint8Array | undefined;
  let streaming = false;
  const post = (bytes: Uint8Array) => port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  jsonPieces(value, PIECE, (bytes) => {
    if (!streaming && first === undefined) {
      first = bytes;
      return;
    }
    if (!streaming) post(first as Uint8Array);
    streaming = true;
    post(bytes);
  });
  // Any value's JSON is at least one character, so there is always a first piece.
  if (!streaming) return { json: first as Uint8Array };
  port.postMessage(null);
  return { streamed: true };
}

export default async function work(task: PoolTask): Promise<WorkerReply> {
  clearTimeout(idle);
  if ("unparsed" in task && task.unparsed.bytes.byteLength > COLLECT_AFTER_BYTES) collectionOwed = true;
  try {
    const result = await runTask("parsed" in task ? task.parsed : parseTask(task.unparsed), inWorker);
    if (!("json" in result)) return result;
    const reply = answer(result.json, "unparsed" in task ? task.pieces : undefined);
    if ("streamed" in reply || reply.json.byteLength > COLLECT_AFTER_BYTES) collectionOwed = true;
    return "json" in reply ? moved(reply) : reply;
  } catch (e) {
    const problem = clientProblem(e);
    if (problem) return { problem };
    throw e;
  } finally {
    collectWhenIdle();
  }
}
