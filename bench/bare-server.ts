/**
 * The baselines of the HTTP benchmarks: bare Fastify 5, logger off, the same body limit as gradserve, no
 * schema, no hooks, no plugins. Listens on PORT at 127.0.0.1.
 *
 * - POST /v1/gradients, /v1/expressions, /v1/train: parse the JSON body with Fastify's own parser and answer
 *   {"ok":true}, what any Fastify JSON endpoint costs (bench/http.ts).
 * - POST /parsed: the same parse, then a prebuilt response of `x-response-bytes` bytes (bench/transport.ts).
 * - POST /raw: the body is read as bytes and not parsed; the same prebuilt response: moving the bytes alone.
 */
import Fastify from "fastify";

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
const small = async (request: { body: unknown }) => ({ ok: typeof request.body === "object" });
app.post("/v1/gradients", small);
app.post("/v1/expressions", small);
app.post("/v1/train", small);
app.get("/healthz", async () => ({ status: "ok" }));

/** A JSON array of zeros of exactly n bytes (n ≥ 2), built once per size. */
const prebuilt = new Map<number, Buffer>();
function response(n: number): Buffer {
  let b = prebuilt.get(n);
  if (!b) {
    b = Buffer.alloc(Math.max(2, n), "0,");
    b[0] = 0x5b; // [
    b[b.length - 1] = 0x5d; // ]
    if (b[b.length - 2] === 0x2c) b[b.length - 2] = 0x30; // no trailing comma: [0,0,…,0]
    prebuilt.clear();
    prebuilt.set(n, b);
  }
  return b;
}
const sized = (headers: Record<string, string | string[] | undefined>) =>
  response(Number(headers["x-response-bytes"] ?? 2));

app.post("/parsed", async (request, reply) => {
  if (typeof request.body !== "object") throw new Error("not parsed");
  return reply.type("application/json").send(sized(request.headers));
});
await app.register(async (raw) => {
  raw.removeAllContentTypeParsers();
  raw.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  raw.post("/raw", async (request, reply) => reply.type("application/json").send(sized(request.headers)));
});
await app.listen({ port: Number(process.env.PORT ?? 3001), host: "127.0.0.1" });
