/** Bounds checked before any work is done, so that no single request can take the service hostage. */
export interface Limits {
  /** Characters of expression text. */
  readonly expressionLength: number;
  /** Nodes of an explicit graph. */
  readonly graphNodes: number;
  /**
   * Nodes of a computation graph drawn as SVG. Graphviz's layout is synchronous and grows much faster than the
   * nodes (on the build machine ~0.11 s at 100 nodes, 0.5 s at 150, 4 s at 240, in a worker or on the event loop
   * alike); DOT text has no limit.
   */
  readonly pictureNodes: number;
  /** Optimizer steps of one training request. */
  readonly trainSteps: number;
  /** Numbers the request's values hold together. */
  readonly elements: number;
  /** Rows or columns of any one value. */
  readonly matrixDim: number;
  /** Estimated floating-point operations of the whole request (all its forward and reverse passes). */
  readonly flops: number;
}

export const defaultLimits: Limits = {
  expressionLength: 10_000,
  graphNodes: 10_000,
  pictureNodes: 100,
  trainSteps: 10_000,
  // 8 million numbers is about the 16 MiB default body; an MNIST-sized network with a batch is 0.3 million.
  elements: 8_000_000,
  matrixDim: 10_000,
  // About a minute of float64 arithmetic on one core; COMPUTE_DEADLINE_MS ends anything slower.
  flops: 1e12,
};
