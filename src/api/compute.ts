import { PassThrough } from "node:stream";
import type { FastifyReply } from "fastify";
import { budget, Offload } from "./budget.js";
import { UnparsedBody } from "./json.js";
import type { Limits } from "./limits.js";
import type { ComputePool, PieceSink, PoolOptions } from "./pool.js";
import { sendProblem } from "./problems.js";
import { runTask, type Task, type TaskResult } from "./tasks.js";
import type { WorkerReply } from "./worker.js";

/** Runs a route's task where it belongs (the event loop, or the pool when heavy) and sends its result. */
export type Compute = (task: Task, reply: FastifyReply) => Promise<void>;

const JSON_TYPE = "application/json; charset=utf-8";

const bytesOf = (piece: Uint8Array) => Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);

/**
 * Sends an answer that arrives in pieces as a stream (chunked, with no Content-Length), starting with the
 * first piece: until then nothing is sent, so that an error can still be answered with its problem.
 */
function streamedAnswer(reply: FastifyReply): { sink: PieceSink; stream: () => PassThrough | undefined } {
  let stream: PassThrough | undefined;
  const sink: PieceSink = (piece) => {
    if (!stream) {
      stream = new PassThrough();
      void reply.type(JSON_TYPE).send(stream);
    }
    // A client that went away has destroyed the stream; the rest of its answer has nowhere to go.
    if (stream.destroyed) return;
    if (piece === null) stream.end();
    else stream.write(bytesOf(piece));
  };
  return { sink, stream: () => stream };
}

async function send(reply: FastifyReply, result: TaskResult | WorkerReply): Promise<void> {
  if ("picture" in result) await reply.type(result.picture.contentType).send(result.picture.body);
  else if ("problem" in result) await sendProblem(reply, result.problem);
  // A streamed answer has been sent already, piece by piece.
  else if ("streamed" in result) return;
  // A worker's answer arrives serialized, as bytes, and is sent as they are.
  else if (result.json instanceof Uint8Array) await reply.type(JSON_TYPE).send(bytesOf(result.json));
  // Stringified here rather than by Fastify, which would look up a serializer by content type first.
  else await reply.type(JSON_TYPE).send(JSON.stringify(result.json));
}

export function computeWith(limits: Limits, pool: ComputePool | null, options: PoolOptions): Compute {
  const onEventLoop = budget(limits, pool ? options.offloadAboveFlops : null);
  return async (task, reply) => {
    // Only a pool's app leaves bodies unparsed (app.ts), so a body that is one has a pool to go to.
    const body: unknown = task.body;
    if (pool && body instanceof UnparsedBody) {
      const format = task.route === "grade" ? task.format : undefined;
      const answer = streamedAnswer(reply);
      try {
        return send(reply, await pool.run({ unparsed: { route: task.route, bytes: body.bytes, format } }, answer.sink));
      } catch (e) {
        // Once the answer has begun there is no status left to change: the response is cut short instead.
        const started = answer.stream();
        if (!started) throw e;
        started.destroy(e as Error);
        return;
      }
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
