import { CoreError, type Origin } from "./errors.js";
import { getOp } from "./ops/registry.js";
import type { AttrSpec, Attrs, AttrValue, OpDef } from "./ops/types.js";
import type { Shape } from "./tensor.js";

interface NodeBase {
  readonly index: number;
  /** How messages and responses call the node ("layer2.z", "W", "h1"). */
  readonly name: string;
  readonly shape: Shape;
  readonly origin?: Origin;
}

/** A value given by the request: parameters are differentiated and updated, constants only used. */
export interface LeafNode extends NodeBase {
  readonly kind: "parameter" | "constant";
}

export interface OpNode extends NodeBase {
  readonly kind: "op";
  readonly op: OpDef;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
}

export type GraphNode = LeafNode | OpNode;

/** Nodes in topological order: every node's inputs come before it, so passes are plain loops. */
export interface Graph {
  readonly nodes: readonly GraphNode[];
  /** Each leaf's index by its name. */
  readonly leaves: ReadonlyMap<string, number>;
}

export interface ApplyOptions {
  readonly name?: string;
  readonly attrs?: Readonly<Record<string, unknown>>;
  readonly origin?: Origin;
}

/**
 * Builds a graph one node at a time, inferring every shape as it goes, so that a request that cannot be
 * computed is rejected with a precise message before any arithmetic is done.
 */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly leaves = new Map<string, number>();

  parameter(name: string, shape: Shape, origin?: Origin): number {
    return this.leaf("parameter", name, shape, origin);
  }

  constant(name: string, shape: Shape, origin?: Origin): number {
    return this.leaf("constant", name, shape, origin);
  }

  /** Applies a registry op by name, or an op given as it is (a test double, say). */
  apply(opOrName: string | OpDef, inputs: readonly number[], options: ApplyOptions = {}): number {
    const index = this.nodes.length;
    const opName = typeof opOrName === "string" ? opOrName : opOrName.name;
    const name = options.name ?? `${opName}#${index}`;
    const located = (e: unknown) => locate(e, name, options.origin);
    let op: OpDef;
    let attrs: Attrs;
    let shape: Shape;
    try {
      op = typeof opOrName === "string" ? getOp(opOrName) : opOrName;
      if (inputs.length !== op.operands.length) {
        throw new CoreError(
          "shape",
          `${opName} takes ${op.operands.length} operand(s) (${op.operands.join(", ")}) but was given ${inputs.length}`,
        );
      }
      attrs = resolveAttrs(op, options.attrs ?? {});
      shape = op.shape(
        inputs.map((i) => this.node(i).shape),
        attrs,
      );
    } catch (e) {
      throw located(e);
    }
    this.nodes.push({ kind: "op", index, name, shape, origin: options.origin, op, inputs: [...inputs], attrs });
    return index;
  }

  node(index: number): GraphNode {
    const n = this.nodes[index];
    if (!n) throw new RangeError(`no node ${index}`);
    return n;
  }

  build(): Graph {
    return { nodes: [...this.nodes], leaves: new Map(this.leaves) };
  }

  private leaf(kind: LeafNode["kind"], name: string, shape: Shape, origin?: Origin): number {
    if (this.leaves.has(name)) throw new CoreError("shape", `the name '${name}' is given twice`, origin);
    const index = this.nodes.length;
    this.leaves.set(name, index);
    this.nodes.push({ kind, index, name, shape, origin });
    return index;
  }
}

/** Prefixes a core error with the node it arose in and attaches the node's origin; other errors pass through. */
export function locate(e: unknown, nodeName: string, origin: Origin | undefined): unknown {
  if (e instanceof CoreError && !e.origin) return new CoreError(e.kind, `${nodeName}: ${e.message}`, origin);
  return e;
}

/** The op's attributes with defaults filled in; an unknown name or a wrong value is a CoreError listing what fits. */
export function resolveAttrs(op: OpDef, given: Readonly<Record<string, unknown>>): Attrs {
  const valid = Object.keys(op.attrs);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(op.attrs, key)) {
      throw new CoreError(
        "unknown",
        `${op.name} has no attribute '${key}'; ${valid.length ? `valid attributes: ${valid.join(", ")}` : "it takes none"}`,
      );
    }
  }
  const out: Record<string, AttrValue> = {};
  for (const [key, spec] of Object.entries(op.attrs)) {
    out[key] =
      Object.hasOwn(given, key) && given[key] !== undefined ? checkAttr(op, key, spec, given[key]) : spec.default;
  }
  return out;
}

function checkAttr(op: OpDef, key: string, spec: AttrSpec, value: unknown): AttrValue {
  const fail = (expected: string) =>
    new CoreError("unknown", `${op.name}: attribute '${key}' must be ${expected}, got ${JSON.stringify(value)}`);
  switch (spec.type) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a finite number");
      return value;
    case "axis":
      if (value === 0 || value === 1 || (value === null && spec.allowAll)) return value;
      throw fail(spec.allowAll ? "0, 1 or null" : "0 or 1");
    case "choice":
      if (typeof value === "string" && spec.values.includes(value)) return value;
      throw fail(`one of ${spec.values.map((v) => `'${v}'`).join(", ")}`);
  }
}
