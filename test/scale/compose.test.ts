import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_BODY_LIMIT } from "../../src/app.js";
import { ConfigSchema } from "../../src/config.js";

/**
 * docker-compose.yml wires N api replicas behind nginx. No Docker engine runs here (CI runs
 * `docker-compose config -q` for the syntax); these are the connections between the compose file, the nginx
 * configuration it mounts and the app, which no schema checks.
 */

interface ComposeService {
  image?: string;
  init?: boolean;
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  stop_grace_period?: string;
  container_name?: string;
}

const compose = parse(readFileSync("docker-compose.yml", "utf8")) as { services: Record<string, ComposeService> };
const { api, nginx } = compose.services as { api: ComposeService; nginx: ComposeService };
const wrapper = readFileSync("deploy/nginx/gradserve.conf", "utf8");
const proxy = readFileSync("deploy/nginx/proxy.conf", "utf8");

/** "${NAME:-default}" → default; a plain value → itself. */
const composeDefault = (value: string | undefined) => /^\$\{\w+:-(.*)\}$/.exec(value ?? "")?.[1] ?? value;
const seconds = (duration: string | undefined) => Number(/^(\d+)s$/.exec(duration ?? "")?.[1]);

describe("docker-compose.yml: api replicas behind nginx", () => {
  it("lets --scale api=N run: no host port or container name on api, which listens on all interfaces", () => {
    expect(api.ports).toBeUndefined();
    expect(api.container_name).toBeUndefined();
    expect(api.expose).toEqual([api.environment?.PORT]);
    expect(api.environment?.HOST).toBe("0.0.0.0");
    expect(api.init).toBe(true);
    for (const name of Object.keys(api.environment ?? {}))
      expect(Object.keys(ConfigSchema.shape), name).toContain(name);
  });

  it("health-checks api on /healthz, and starts nginx once api is healthy", () => {
    expect(api.healthcheck?.test.join(" ")).toContain(`http://127.0.0.1:${api.environment?.PORT}/healthz`);
    expect(nginx.depends_on).toEqual({ api: { condition: "service_healthy" } });
    expect(nginx.healthcheck?.test.join(" ")).toContain("/nginx-health");
    expect(proxy).toMatch(/location = \/nginx-health \{/);
  });

  it("lets a replica finish its drain before Docker kills it", () => {
    const drainMs = Number(composeDefault(api.environment?.SHUTDOWN_TIMEOUT_MS));
    expect(drainMs).toBe(ConfigSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined));
    expect(seconds(api.stop_grace_period) * 1000).toBeGreaterThan(drainMs);
  });

  it("publishes nginx on PORT (3000 by default), mounts deploy/nginx and proxies to the api service by its DNS name", () => {
    expect(nginx.image).toMatch(/^nginx:1\.(2[89]|[3-9]\d)/); // `resolve` in upstreams needs nginx >= 1.27.3
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, not JavaScript's
    expect(nginx.ports).toEqual(["${PORT:-3000}:80"]);
    expect(wrapper).toMatch(/^\s*listen 80;/m);
    expect(nginx.volumes).toEqual([
      "./deploy/nginx:/etc/nginx/gradserve:ro",
      "./deploy/nginx/gradserve.conf:/etc/nginx/conf.d/default.conf:ro",
    ]);
    expect(wrapper).toMatch(/^\s*include \/etc\/nginx\/gradserve\/proxy\.conf;/m);
    expect(wrapper).toMatch(new RegExp(`^\\s*server api:${api.environment?.PORT} resolve `, "m"));
    expect(wrapper).toMatch(/^resolver 127\.0\.0\.11 /m);
  });

  it("lets through every body the app accepts: client_max_body_size = BODY_LIMIT everywhere", () => {
    const mib = Number(/^client_max_body_size (\d+)m;/m.exec(proxy)?.[1]);
    expect(mib * 1024 * 1024).toBe(DEFAULT_BODY_LIMIT);
    expect(Number(composeDefault(api.environment?.BODY_LIMIT))).toBe(DEFAULT_BODY_LIMIT);
    expect(readFileSync("deploy/kubernetes/deployment.yaml", "utf8")).toMatch(
      new RegExp(`- name: BODY_LIMIT\\n\\s+value: "${DEFAULT_BODY_LIMIT}"`),
    );
  });

  it("retries failed requests, POSTs included, on another replica", () => {
    expect(proxy).toMatch(/^\s*proxy_next_upstream error timeout http_502 http_503 non_idempotent;/m);
    expect(proxy).toMatch(/^\s*proxy_request_buffering on;/m);
    expect(wrapper).toMatch(/max_fails=\d+ fail_timeout=\d+s/);
    expect(wrapper).toMatch(/^\s*keepalive \d+;/m);
    expect(proxy).toMatch(/^\s*proxy_set_header Connection "";/m);
    expect(proxy).toMatch(/^\s*proxy_set_header X-Request-Id \$gradserve_request_id;/m);
  });
});
