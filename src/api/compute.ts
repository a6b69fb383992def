import type { FastifyReply } from "fastify";
import { budget, Offload } from "./budget.js";
import { UnparsedBody } from "./json.js";
import type { Limits } from "./limits.js";
import type { ComputePool, PoolOptions } from "./pool.js";
import { sendProblem } from "./problems.js";
import { runTask, type Task, type TaskResult } from "./tasks.js";
import type { WorkerReply } from "./worker.js";

/** Runs a route's task where it belongs (the event loop, or the pool when heavy) and sends its result. */
export type Compute = (task: Task, reply: FastifyReply) => Promise<void>;

async function send(reply: FastifyReply, result: TaskResult | WorkerReply): Promise<void> {
  if ("picture" in result) await reply.type(result.picture.contentType).send(result.picture.body);
  else if ("problem" in result) await sendProblem(reply, result.problem);
  // A worker's answer arrives serialized, as bytes, and is sent as they are.
  else if (result.json instanceof Uint8Array) {
    const { buffer, byteOffset, byteLength } = result.json;
    await reply.type("application/json; charset=utf-8").send(Buffer.from(buffer, byteOffset, byteLength));
  } else await reply.send(result.json);
}

export function computeWith(limits: Limits, pool: ComputePool | null, options: PoolOptions): Compute {
  const onEventLoop = budget(limits, pool ? options.offloadAboveFlops : null);
  return async (task, reply) => {
    // Only a pool's app leaves bodies unparsed (app.ts), so a body that is one has a pool to go to.
    const body: unknown = task.body;
    if (pool && body instanceof UnparsedBody) {
      const format = task.route === "grade" ? task.format : undefined;
      return send(reply, await pool.run({ unparsed: { route: task.route, bytes: body.bytes, format } }));
    }
    let result: TaskResult;
    try {
      result = await runTask(task, onEventLoop);
    } catch (e) {
      if (!(e instanceof Offload) || !pool) throw e;
      return send(reply, await pool.run({ parsed: task }));
    }
    return send(reply, result);
  };
}
