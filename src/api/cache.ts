import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * For a request whose answer may be kept: its body's text as it arrived, the key its answer is stored
     * under. Per-request state lives on the request, not in WeakMaps, since every WeakMap entry is an ephemeron
     * the garbage collector processes apart, a measurable share of a homework request.
     */
    answerKey: string | null;
    /** The kept answer to this request, found when its body arrived and sent before validation. */
    knownAnswer: Entry | null;
  }
}

export interface Entry {
  /** As it was sent: JSON text, or the bytes a pool worker serialized it to. */
  readonly body: string | Buffer;
  readonly type: string;
}

/**
 * Answers by URL, then by the body's text as it arrived: the body string is the key itself, not a new string
 * made of the URL and the body, so V8 hashes it once (the hash stays on the string) for both the lookup and the
 * store, and nothing is copied.
 */
type Answers = Map<string, Map<string, Entry>>;

/**
 * Two generations instead of a strict LRU: new answers go to the young map; when it holds half the budget it
 * becomes the old one and the old one is dropped; a hit in the old map moves the answer back. Every operation
 * is O(1): a Map that deletes and re-inserts on every hit slows down as its deleted slots pile up.
 */
class Generations {
  private young: Answers = new Map();
  private old: Answers = new Map();
  private youngBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(url: string, body: string): Entry | undefined {
    const hit = this.young.get(url)?.get(body);
    if (hit) return hit;
    const aged = this.old.get(url)?.get(body);
    if (aged) this.set(url, body, aged);
    return aged;
  }

  set(url: string, body: string, entry: Entry): void {
    const answerBytes = typeof entry.body === "string" ? entry.body.length * 2 : entry.body.byteLength;
    const cost = (url.length + body.length) * 2 + answerBytes;
    if (cost > this.maxBytes / 16) return;
    let answers = this.young.get(url);
    if (!answers) {
      answers = new Map();
      this.young.set(url, answers);
    } else if (answers.has(body)) return;
    answers.set(body, entry);
    this.youngBytes += cost;
    if (this.youngBytes >= this.maxBytes / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
  }
}

/**
 * Whether a request's answer is kept, asked with its body's text as soon as it arrives: the JSON parser skips
 * parsing a body whose answer is already known.
 */
export interface KnownAnswers {
  (request: FastifyRequest, text: string): boolean;
  /** Bodies of more characters than this are never kept: not worth turning into text to be looked up. */
  readonly largestBody: number;
}

/**
 * Every POST under /v1 is a pure function of its URL and body: the same text always gets the same answer, bit
 * for bit. So a 200 answer is kept (within `maxBytes`, about twice the characters held) and served again to
 * an identical request, as an autograder sends the same problem for every student, without validating or
 * computing it again. Keys, limits and shedding still apply: they run before this.
 */
export function installResponseCache(app: FastifyInstance, maxBytes: number): KnownAnswers | null {
  if (maxBytes <= 0) return null;
  const cache = new Generations(maxBytes);
  // A body too large for its answer to be kept is not worth looking up.
  const largestBody = maxBytes / 32;
  const kept = (request: FastifyRequest, text: string): boolean =>
    request.method === "POST" && text.length <= largestBody && request.url.startsWith("/v1/");
  app.decorateRequest("answerKey", null);
  // Found when the body arrives, and held on the request until preValidation sends it: between the two, other
  // requests may store answers and push this one out of the cache.
  app.decorateRequest("knownAnswer", null);
  // Callback hooks, not async ones: a promise per request is a measurable share of a homework request.
  app.addHook("preValidation", (request, reply, done) => {
    const hit = request.knownAnswer;
    if (!hit) return done();
    // Answered here: the rest of the request's hooks and its handler do not run.
    reply.header("x-cache", "hit").type(hit.type).send(hit.body);
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    const sent = typeof payload === "string" || Buffer.isBuffer(payload);
    const key = request.answerKey;
    if (key !== null && reply.statusCode === 200 && sent && request.knownAnswer === null) {
      cache.set(request.url, key, { body: payload, type: String(reply.getHeader("content-type")) });
    }
    done(null, payload);
  });
  const known = (request: FastifyRequest, text: string): boolean => {
    if (!kept(request, text)) return false;
    request.answerKey = text;
    request.knownAnswer = cache.get(request.url, text) ?? null;
    return request.knownAnswer !== null;
  };
  return Object.assign(known, { largestBody });
}
