import type { FastifyInstance, FastifyRequest } from "fastify";

/** The text of each JSON body as it arrived, for requests whose answer may be cached. */
export const rawBodies = new WeakMap<FastifyRequest, string>();

interface Entry {
  readonly body: string;
  readonly type: string;
}

/** Most recently used entries last (a Map keeps insertion order); the oldest go first once over the budget. */
class Lru {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Entry | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, entry: Entry): void {
    const cost = (key.length + entry.body.length) * 2;
    if (cost > this.maxBytes / 16 || this.entries.has(key)) return;
    this.entries.set(key, entry);
    this.bytes += cost;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= (oldest.length + value.body.length) * 2;
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
  const cache = new Lru(maxBytes);
  const keyOf = (request: FastifyRequest) => {
    const raw = rawBodies.get(request);
    return request.method === "POST" && raw !== undefined && request.url.startsWith("/v1/")
      ? `${request.url}\n${raw}`
      : undefined;
  };
  app.addHook("preValidation", async (request, reply) => {
    const key = keyOf(request);
    const hit = key === undefined ? undefined : cache.get(key);
    if (!hit) return;
    return reply.header("x-cache", "hit").type(hit.type).send(hit.body);
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    const key = keyOf(request);
    if (key !== undefined && reply.statusCode === 200 && typeof payload === "string" && !reply.hasHeader("x-cache")) {
      cache.set(key, { body: payload, type: String(reply.getHeader("content-type")) });
    }
    done(null, payload);
  });
}
