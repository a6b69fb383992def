/**
 * A worker of the compute pool: runs heavy tasks off the event loop with the same code as the event loop.
 * A CoreError (the client's problem) crosses back as data, since errors lose their class when cloned.
 */
import { CoreError } from "../core/errors.js";
import { configureWasmGemm } from "../core/kernels/gemm-wasm.js";
import { admitted } from "./budget.js";
import { runTask, type Task, type TaskResult } from "./tasks.js";

export type WorkerReply =
  | { readonly ok: TaskResult }
  | { readonly error: { kind: CoreError["kind"]; message: string; origin: CoreError["origin"] } };

// The pool already keeps every core busy with one task each: a product split across more threads would only
// take a core from another task, or from the event loop.
await configureWasmGemm({ threads: 1 });

export default async function work(task: Task): Promise<WorkerReply> {
  try {
    return { ok: await runTask(task, admitted) };
  } catch (e) {
    if (e instanceof CoreError) return { error: { kind: e.kind, message: e.message, origin: e.origin } };
    throw e;
  }
}
