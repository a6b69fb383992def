import { createHash, timingSafeEqual } from "node:crypto";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import underPressure from "@fastify/under-pressure";
import type { FastifyInstance, FastifyRequest } from "fastify";
import helmet from "helmet";
import { problem, sendProblem } from "./problems.js";

export interface Protection {
  /** Bearer keys that /v1 routes require; none means open. */
  readonly apiKeys: readonly string[];
  /** Requests per client per window on /v1 routes; 0 turns rate limiting off. */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Origins allowed to call from a browser; none turns CORS off. */
  readonly corsOrigins: readonly string[];
  /** Above this event-loop delay, new requests are shed with 503; 0 turns shedding off. */
  readonly maxEventLoopDelayMs: number;
  /** How often the event-loop delay is sampled (it is the mean delay over each interval). */
  readonly loadSampleIntervalMs: number;
}

export const defaultProtection: Protection = {
  apiKeys: [],
  rateLimit: { max: 0, windowMs: 60_000 },
  corsOrigins: [],
  maxEventLoopDelayMs: 1_000,
  loadSampleIntervalMs: 500,
};

/** What the keys, limits and shedding guard: the API, not health checks or documentation. */
const guarded = (request: FastifyRequest) => request.url.startsWith("/v1/");

const digest = (s: string) => createHash("sha256").update(s).digest();

/** The key a request presents, if it presents one as `Authorization: Bearer <key>`. */
function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1];
}

/**
 * API keys compared in constant time: every configured key is compared (as SHA-256 digests, so lengths
 * leak nothing) whether or not an earlier one matched.
 */
function installApiKeys(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  app.addHook("onRequest", async (request, reply) => {
    if (!guarded(request)) return;
    const presented = bearer(request);
    const d = digest(presented ?? "");
    let match = false;
    for (const k of digests) match = timingSafeEqual(d, k) || match;
    if (presented && match) return;
    reply.header("www-authenticate", 'Bearer realm="gradserve"');
    return sendProblem(
      reply,
      problem(
        "unauthorized",
        presented ? "The API key is not valid" : "This server requires an API key: send Authorization: Bearer <key>",
      ),
    );
  });
}

/**
 * helmet's headers, computed once: they do not change between requests, so every response only copies them
 * (running helmet per request cost two thirds of the throughput of a homework-sized request). The API answers
 * JSON, so its content may load nothing and be framed nowhere; Swagger UI's pages replace that policy with one
 * that lets them load their scripts.
 */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const capture = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: "same-origin" },
    frameguard: { action: "deny" },
  });
  middleware({} as never, capture as never, () => undefined);
  return headers;
}

/**
 * What guards any response, a JSON one included: OWASP's security headers for REST responses (REST Security
 * Cheat Sheet): no sniffing JSON into HTML or script, no framing, and HTTPS only (HSTS, which goes out over
 * HTTPS alone: installSecurityHeaders). The rest of helmet's headers act on HTML documents and go to Swagger
 * UI's pages: the referrer policy (a JSON answer links nowhere), CORP (the API's GET answers are public: the
 * catalog, health, the OpenAPI document), COOP, Origin-Agent-Cluster, DNS prefetch, X-XSS-Protection,
 * X-Download-Options and Flash's cross-domain policies. Every header costs about
 * 0.3 µs on each response (node:http checks each name and value), 2% of a homework request answered from the
 * cache.
 */
const anyResponse = new Set(["content-security-policy", "x-content-type-options", "x-frame-options"]);

const headers = helmetHeaders();
const pick = (keep: (name: string) => boolean) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => keep(name)));
const apiHeaders = pick((name) => anyResponse.has(name));
const hsts = headers["strict-transport-security"];
const documentHeaders = pick((name) => !anyResponse.has(name) && name !== "strict-transport-security");

/**
 * HSTS goes only on a response that reaches its client over HTTPS: this server's own sockets are plain HTTP,
 * so that means behind a TLS proxy that says so in X-Forwarded-Proto and is trusted (TRUST_PROXY). RFC 6797
 * (7.2) forbids the header over plain HTTP, where browsers ignore it anyway.
 */
function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(apiHeaders);
    if (request.protocol === "https") reply.header("strict-transport-security", hsts);
    done();
  });
}

/** Adds, within `scope` (the routes that serve HTML pages), the headers that only matter for documents. */
export function addDocumentHeaders(scope: FastifyInstance): void {
  scope.addHook("onRequest", (_request, reply, done) => {
    reply.headers(documentHeaders);
    done();
  });
}

/**
 * Over the limit, a request to the API fails with FST_UNDER_PRESSURE (503, Retry-After), which the error
 * handler answers as problem+json; health checks and documentation are not shed. under-pressure only samples
 * the event-loop delay here (given no threshold it adds no hook): its own per-request hook reads
 * request.routeOptions, which Fastify builds afresh on every access, about 1 µs of a homework request.
 */
async function installLoadShedding(app: FastifyInstance, p: Protection): Promise<void> {
  await app.register(underPressure, { sampleInterval: p.loadSampleIntervalMs });
  app.addHook("onRequest", (request, reply, done) => {
    if (app.memoryUsage().eventLoopDelay <= p.maxEventLoopDelayMs || !guarded(request)) return done();
    reply.code(503).header("retry-after", 1);
    done(Object.assign(new Error("The server is overloaded; retry after 1 s"), { code: "FST_UNDER_PRESSURE" }));
  });
}

export async function installProtection(app: FastifyInstance, p: Protection): Promise<void> {
  installSecurityHeaders(app);
  if (p.corsOrigins.length > 0) await app.register(cors, { origin: [...p.corsOrigins], maxAge: 600 });
  if (p.maxEventLoopDelayMs > 0) await installLoadShedding(app, p);
  installApiKeys(app, p.apiKeys);
  if (p.rateLimit.max > 0) {
    await app.register(rateLimit, {
      global: true,
      max: p.rateLimit.max,
      timeWindow: p.rateLimit.windowMs,
      allowList: (request) => !guarded(request),
      // A client is its API key where it has one (several graders may share an address), else its address.
      keyGenerator: (request) => {
        const key = bearer(request);
        return key ? `key:${digest(key).toString("hex")}` : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        code: "RATE_LIMITED",
        message: `Too many requests: at most ${context.max} per ${context.after}; retry after ${Math.ceil(context.ttl / 1000)} s`,
      }),
    });
  }
}
