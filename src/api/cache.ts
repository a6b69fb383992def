import type { FastifyInstance, FastifyRequest } from "fastify";

/** The text of each JSON body as it arrived, for requests whose answer may be cached. */
export const rawBodies = new WeakMap<FastifyRequest, string>();

interface Entry {
  /** As it was sent: JSON text, or the bytes a pool worker serialized it to. */
  readonly body: string | Buffer;
  readonly type: string;
}

/**
 * Two generations instead of a strict LRU: new answers go to the young map; when it holds half the budget it
 * becomes the old one and the old one is dropped; a hit in the old map moves the answer back. Every operation
 * is O(1): a Map that deletes and re-inserts on every hit slows down as its deleted slots pile up.
 */
class Generations {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Entry | undefined {
    const hit = this.young.get(key);
    if (hit) return hit;
    const aged = this.old.get(key);
    if (aged) this.set(key, aged);
    return aged;
  }

  set(key: string, entry: Entry): void {
    const bodyBytes = typeof entry.body === "string" ? entry.body.length * 2 : entry.body.byteLength;
    const cost = key.length * 2 + bodyBytes;
    if (cost > this.maxBytes / 16 || this.young.has(key)) return;
    this.young.set(key, entry);
    this.youngBytes += cost;
    if (this.youngBytes >= this.maxBytes / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
  }
}

/**
 * Every POST under /v1 is a pure function of its URL and body: the same text always gets the same answer, bit
 * for bit. So a 200 answer is kept (within `maxBytes`, about twice the characters held) and served again to
 * an identical request, as an autograder sends the same problem for every student, without validating or
 * computing it again. Keys, limits and shedding still apply: they run before this.
 */
export function installResponseCache(app: FastifyInstance, maxBytes: number): void {
  if (maxBytes <= 0) return;
  const cache = new Generations(maxBytes);
  // A body too large for its answer to be kept is not worth a key built from its text.
  const largestBody = maxBytes / 32;
  const keyOf = (request: FastifyRequest) => {
    const raw = rawBodies.get(request);
    if (request.method !== "POST" || raw === undefined || raw.length > largestBody || !request.url.startsWith("/v1/")) {
      return undefined;
    }
    return `${request.url}\n${raw}`;
  };
  app.addHook("preValidation", async (request, reply) => {
    const key = keyOf(request);
    const hit = key === undefined ? undefined : cache.get(key);
    if (!hit) return;
    return reply.header("x-cache", "hit").type(hit.type).send(hit.body);
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    const key = keyOf(request);
    const sent = typeof payload === "string" || Buffer.isBuffer(payload);
    if (key !== undefined && reply.statusCode === 200 && sent && !reply.hasHeader("x-cache")) {
      cache.set(key, { body: payload, type: String(reply.getHeader("content-type")) });
    }
    done(null, payload);
  });
}
