import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { type IPodDisruptionBudget, PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { type IService, Service } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { buildApp } from "../../src/app.js";
import { ConfigSchema, readConfig } from "../../src/config.js";

/**
 * deploy/kubernetes/ checked without a cluster: every file parses as YAML, every object validates against the
 * Kubernetes OpenAPI schema (kubernetes-models: types, formats, enums, required fields), and the fields the
 * schema cannot judge are checked against the app itself: probe paths are real routes, the environment is a
 * configuration the app accepts, ports, selectors and the autoscaler's target line up, and stopping a pod
 * leaves the drain time to finish.
 */

const dir = "deploy/kubernetes";

/** Parses one YAML file strictly (syntax errors and duplicate keys fail), into its documents. */
function parseYaml(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(join(dir, file), "utf8"), { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("\n")}`);
  }
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}

/** The schema of each kind the manifests use. The validator throws with the path of every violation. */
const models = {
  "apps/v1/Deployment": (data: object) => new Deployment(data),
  "v1/Service": (data: object) => new Service(data),
  "autoscaling/v2/HorizontalPodAutoscaler": (data: object) => new HorizontalPodAutoscaler(data),
  "policy/v1/PodDisruptionBudget": (data: object) => new PodDisruptionBudget(data),
} as const;
type ModelKey = keyof typeof models;

interface Manifest {
  readonly file: string;
  readonly key: string;
  readonly object: { apiVersion: string; kind: string; metadata: { name: string } };
}

const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const kustomization = "kustomization.yaml";
const manifests: Manifest[] = files
  .filter((f) => f !== kustomization)
  .flatMap((file) =>
    parseYaml(file).map((doc) => {
      const object = doc as Manifest["object"];
      return { file, key: `${object.apiVersion}/${object.kind}`, object };
    }),
  );

function one<T>(key: ModelKey): T {
  const found = manifests.filter((m) => m.key === key);
  expect(
    found.map((m) => m.file),
    key,
  ).toHaveLength(1);
  return (found[0] as Manifest).object as T;
}

function validate(key: string, object: object): void {
  const make = models[key as ModelKey];
  if (!make) throw new Error(`no schema for ${key}`);
  make(object).validate();
}

describe("deploy/kubernetes against the Kubernetes schemas", () => {
  it("holds a Deployment, a Service, a HorizontalPodAutoscaler and a PodDisruptionBudget, one of each", () => {
    expect(manifests.map((m) => m.key).sort()).toEqual(Object.keys(models).sort());
    expect(new Set(manifests.map((m) => m.object.metadata.name))).toEqual(new Set(["gradserve"]));
  });

  it.each(files.filter((f) => f !== kustomization))("%s validates against its kind's OpenAPI schema", (file) => {
    for (const m of manifests.filter((x) => x.file === file)) expect(() => validate(m.key, m.object)).not.toThrow();
  });

  it("the validator is real: it rejects a mistyped field", () => {
    const deployment = structuredClone(one<IDeployment>("apps/v1/Deployment"));
    const container = deployment.spec?.template.spec?.containers[0] as { ports: { containerPort: unknown }[] };
    (container.ports[0] as { containerPort: unknown }).containerPort = "3000";
    expect(() => validate("apps/v1/Deployment", deployment)).toThrow(/containerPort must be integer/);
    const hpa = structuredClone(one<IHorizontalPodAutoscaler>("autoscaling/v2/HorizontalPodAutoscaler"));
    delete (hpa.spec as { maxReplicas?: number }).maxReplicas;
    expect(() => validate("autoscaling/v2/HorizontalPodAutoscaler", hpa)).toThrow(/maxReplicas/);
  });

  it("kustomization.yaml lists every manifest and names the Deployment's image", () => {
    const [k] = parseYaml(kustomization) as [{ kind: string; resources: string[]; images: { name: string }[] }];
    expect(k.kind).toBe("Kustomization");
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== kustomization));
    const image = one<IDeployment>("apps/v1/Deployment").spec?.template.spec?.containers[0]?.image ?? "";
    expect(k.images.map((i) => i.name)).toContain(image.split(":")[0]);
  });
});

describe("deploy/kubernetes agrees with the app", () => {
  const deployment = one<IDeployment>("apps/v1/Deployment");
  const service = one<IService>("v1/Service");
  const hpa = one<IHorizontalPodAutoscaler>("autoscaling/v2/HorizontalPodAutoscaler");
  const pdb = one<IPodDisruptionBudget>("policy/v1/PodDisruptionBudget");
  const spec = deployment.spec;
  const pod = spec?.template.spec;
  const containers = pod?.containers ?? [];
  const container = containers[0];
  if (!spec || !pod || !container) throw new Error("the Deployment has no pod template with a container");
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ""]));
  const namedPort = (name: unknown) => container.ports?.find((p) => p.name === name)?.containerPort;

  const app = buildApp();
  beforeAll(async () => {
    await (await app).ready();
  });
  afterAll(async () => {
    await (await app).close();
  });

  it("sets only configuration the app knows, with values it accepts; it listens on the container's port", () => {
    expect(containers).toHaveLength(1);
    const result = readConfig(env);
    expect("errors" in result ? result.errors : []).toEqual([]);
    if (!("config" in result)) return;
    expect(result.config.HOST).toBe("0.0.0.0");
    expect(container.ports?.map((p) => [p.name, p.containerPort])).toEqual([["http", result.config.PORT]]);
    // Every variable is one the app reads: a misspelt name would be silently ignored.
    const known = Object.keys(ConfigSchema.shape);
    for (const name of Object.keys(env)) expect(known, name).toContain(name);
  });

  it("probes real routes on the named port: readiness /readyz (fails while draining), liveness /healthz", async () => {
    const readiness = container.readinessProbe?.httpGet;
    const liveness = container.livenessProbe?.httpGet;
    const startup = container.startupProbe?.httpGet;
    expect(readiness?.path).toBe("/readyz");
    expect(liveness?.path).toBe("/healthz");
    expect(startup?.path).toBe("/healthz");
    for (const probe of [readiness, liveness, startup]) expect(namedPort(probe?.port), String(probe?.port)).toBe(3000);
    const a = await app;
    expect((await a.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    expect((await a.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    a.lifecycle.draining = true;
    try {
      expect((await a.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
      expect((await a.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    } finally {
      a.lifecycle.draining = false;
    }
  });

  it("stops a pod only after preStop and the whole drain: grace period > preStop sleep + SHUTDOWN_TIMEOUT_MS", () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe("sleep");
    const preStopSeconds = Number(command[1]);
    expect(preStopSeconds).toBeGreaterThan(0);
    const result = readConfig(env);
    if (!("config" in result)) throw new Error(result.errors.join("\n"));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      preStopSeconds + result.config.SHUTDOWN_TIMEOUT_MS / 1000,
    );
    // And a rollout never takes capacity away first.
    expect(spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });

  it("runs as a non-root user without privileges", () => {
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext?.capabilities?.drop).toEqual(["ALL"]);
    // The image's user (Dockerfile) is `node`, uid 1000 in the official Node images.
    expect(readFileSync("Dockerfile", "utf8")).toMatch(/^USER node$/m);
    expect(pod.securityContext?.runAsUser).toBe(1000);
  });

  it("selects its own pods everywhere: the Deployment, the Service and the disruption budget", () => {
    const labels = spec.template.metadata?.labels ?? {};
    const selector = spec.selector.matchLabels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(labels).toMatchObject(selector);
    expect(service.spec?.selector).toEqual(selector);
    expect(pdb.spec?.selector?.matchLabels).toEqual(selector);
    // The Service reaches the container's port by name.
    expect(service.spec?.ports?.map((p) => namedPort(p.targetPort))).toEqual([3000]);
  });

  it("scales the Deployment on CPU, which the container requests", () => {
    const s = hpa.spec;
    expect(s?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata?.name });
    expect(s?.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    // Utilization is a share of the request: without a CPU request the HPA cannot compute it.
    expect(container.resources?.requests?.cpu).toBeTruthy();
    expect(s?.minReplicas).toBeGreaterThanOrEqual(2);
    expect(s?.maxReplicas).toBeGreaterThan(s?.minReplicas ?? 0);
    expect(spec.replicas).toBe(s?.minReplicas);
  });
});
