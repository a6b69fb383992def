import { estimateFlops, graphDepth, leafEntries, nodeWork } from "../core/cost.js";
import { CoreError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { shapeText } from "../core/tensor.js";
import type { Limits } from "./limits.js";

/**
 * Admission of a compiled problem before any arithmetic: its size and estimated cost against the limits,
 * and whether it is heavy enough to belong in the worker pool. `repeats` is how many forward and reverse
 * passes the request will run (training steps, finite-difference checks).
 */
export interface Budget {
  /**
   * A size the request states outright (steps, expression length, graph nodes), checked before any parsing; a
   * long expression or a large graph goes to the pool from here (OFFLOAD_STATED).
   */
  within(stated: StatedSize, value: number, path: readonly (string | number)[]): void;
  /**
   * `description` is what the answer describes of the graph besides its numbers, if anything: an SVG picture must
   * be within MAX_PICTURE_NODES, and each kind goes to the pool when the graph is large (an explanation: deep).
   */
  admit(graph: Graph, repeats: number, description?: Description): void;
}

/** A description of the graph made for the answer: an SVG picture, DOT text, or an explanation. */
export type Description = "svg" | "dot" | "explanation";

export type StatedSize = "expressionLength" | "graphNodes" | "trainSteps" | "pictureNodes";

const statedSizes: Record<StatedSize, { what: string; setting: string; instead?: string }> = {
  expressionLength: { what: "the expression's length", setting: "MAX_EXPRESSION_LENGTH" },
  graphNodes: { what: "the number of graph nodes", setting: "MAX_GRAPH_NODES" },
  trainSteps: { what: "steps", setting: "MAX_TRAIN_STEPS" },
  pictureNodes: {
    what: "the number of nodes to draw as SVG",
    setting: "MAX_PICTURE_NODES",
    instead: "; ask for format dot and render the DOT text with Graphviz locally",
  },
};

/** Thrown on the event loop for work that should run in the worker pool instead: what makes it heavy. */
export class Offload extends Error {
  constructor(readonly heavy: string) {
    super(`offload ${heavy}`);
  }
}

/**
 * Pictures and DOT text of graphs of more nodes than these are made in the pool. An SVG picture's layout by
 * Graphviz is synchronous and grows much faster than the graph (on the build machine ~15 ms at 30 nodes, 50 ms at
 * 60, 110 ms at 99); DOT text takes tens of ms at a few thousand nodes (3,000 nodes: ~90 ms, 0.7 MB).
 */
export const OFFLOAD_DESCRIBED_NODES = { svg: 30, dot: 1000 } as const;

/**
 * Explanations of graphs deeper than this are made in the pool: their paths are as long as the graph is deep (up
 * to 1,024 factors in all, explain/chain.ts), so they grow with the depth. On the build machine, on the event
 * loop: 20 nested sigmoid(w*…) ~11 ms and 0.7 MB; 64 ~23 ms and 1.4 MB; 256 levels of parentheses, signs, powers
 * and tanh ~22 ms and 1.4 MB (~32 ms and 2.3 MB before the factor limit).
 */
export const OFFLOAD_EXPLAINED_DEPTH = 64;

/**
 * Expressions and graphs longer than these are parsed and compiled in the pool: on the event loop a 9,000-character
 * expression of 1,700 parameters took ~10 ms to parse, compile and weigh, only to learn that it belonged in the
 * pool (where it was compiled again). Below them, compiling costs the event loop a few ms at most.
 */
export const OFFLOAD_STATED: Partial<Record<StatedSize, number>> = { expressionLength: 2000, graphNodes: 500 };

/** No limits: for callers that admitted the request themselves (the tests, the benchmarks). */
export const admitted: Budget = { within: () => undefined, admit: () => undefined };

export function budget(limits: Limits, offloadAbove: number | null): Budget {
  const within: Budget["within"] = (stated, value, path) => {
    const { what, setting, instead = "" } = statedSizes[stated];
    if (value > limits[stated]) {
      throw new CoreError("limit", `${what} is ${value}, over the limit of ${limits[stated]} (${setting})${instead}`, {
        path,
      });
    }
    if (offloadAbove !== null && value > (OFFLOAD_STATED[stated] ?? Number.POSITIVE_INFINITY)) {
      throw new Offload(`${what}, ${value}`);
    }
  };
  return {
    within,
    admit(graph, repeats, description) {
      const entries = leafEntries(graph);
      if (entries > limits.elements) {
        throw new CoreError(
          "limit",
          `the request holds ${entries} numbers, over the limit of ${limits.elements} (MAX_ELEMENTS)`,
        );
      }
      for (const node of graph.nodes) {
        if (node.kind !== "op" && Math.max(node.shape.rows, node.shape.cols) > limits.matrixDim) {
          throw new CoreError(
            "limit",
            `'${node.name}' is ${shapeText(node.shape)}, over the limit of ${limits.matrixDim} rows or columns (MAX_MATRIX_DIM)`,
            node.origin,
          );
        }
      }
      const flops = estimateFlops(graph) * repeats;
      if (flops > limits.flops) {
        throw new CoreError(
          "limit",
          `the computation is estimated at ${flops.toPrecision(3)} floating-point operations, over the limit of ${limits.flops.toPrecision(3)} (MAX_FLOPS)`,
        );
      }
      const nodes = graph.nodes.length;
      if (description === "svg") within("pictureNodes", nodes, ["format"]);
      if (offloadAbove === null) return;
      const work = flops + nodeWork(graph, repeats);
      if (work > offloadAbove) throw new Offload(`${work} FLOPs' worth of work`);
      if ((description === "svg" || description === "dot") && nodes > OFFLOAD_DESCRIBED_NODES[description]) {
        throw new Offload(`describing ${nodes} nodes as ${description}`);
      }
      if (description === "explanation") {
        const depth = graphDepth(graph);
        if (depth > OFFLOAD_EXPLAINED_DEPTH) throw new Offload(`explaining a graph ${depth} ops deep`);
      }
    },
  };
}
