import type { FastifyReply } from "fastify";
import { budget, Offload } from "./budget.js";
import type { Limits } from "./limits.js";
import type { ComputePool, PoolOptions } from "./pool.js";
import { runTask, type Task } from "./tasks.js";

/** Runs a route's task where it belongs (the event loop, or the pool when heavy) and sends its result. */
export type Compute = (task: Task, reply: FastifyReply) => Promise<void>;

export function computeWith(limits: Limits, pool: ComputePool | null, options: PoolOptions): Compute {
  const onEventLoop = budget(limits, pool ? options.offloadAboveFlops : null);
  return async (task, reply) => {
    let result: Awaited<ReturnType<typeof runTask>>;
    try {
      result = await runTask(task, onEventLoop);
    } catch (e) {
      if (!(e instanceof Offload) || !pool) throw e;
      result = await pool.run(task);
    }
    if ("picture" in result) await reply.type(result.picture.contentType).send(result.picture.body);
    else await reply.send(result.json);
  };
}
