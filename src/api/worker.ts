/**
 * A worker of the compute pool: runs heavy tasks off the event loop with the same code as the event loop,
 * parsing and validating a body left unparsed, and serializing the answer, so that the event loop only moves
 * text. A client's error crosses back as its problem body, since errors lose their class when cloned.
 */
import { workerData } from "piscina";
import { configureWasmGemm } from "../core/kernels/gemm-wasm.js";
import type { Picture } from "./analysis.js";
import { budget } from "./budget.js";
import type { PoolTask, WorkerSettings } from "./pool.js";
import { clientProblem, type Problem } from "./problems.js";
import { parseTask, runTask } from "./tasks.js";

export type WorkerReply = { readonly text: string } | { readonly picture: Picture } | { readonly problem: Problem };

// The pool already keeps every core busy with one task each: a product split across more threads would only
// take a core from another task, or from the event loop.
await configureWasmGemm({ threads: 1 });

// Admission again here: a body parsed here has not been admitted, and for one that has, it costs microseconds.
const inWorker = budget((workerData as WorkerSettings).limits, null);

export default async function work(task: PoolTask): Promise<WorkerReply> {
  try {
    const result = await runTask("parsed" in task ? task.parsed : parseTask(task.unparsed), inWorker);
    return "json" in result ? { text: JSON.stringify(result.json) } : result;
  } catch (e) {
    const problem = clientProblem(e);
    if (problem) return { problem };
    throw e;
  }
}
