import type { Origin } from "../errors.js";
import { GraphBuilder } from "../graph.js";
import type { CompiledProblem } from "../problem.js";
import { scalar, type Tensor } from "../tensor.js";

/** A graph under construction together with the values of its leaves: what every front end fills in. */
export class ProblemBuilder {
  readonly graph = new GraphBuilder();
  private readonly feeds = new Map<string, Tensor>();
  private readonly parameterNames: string[] = [];
  private readonly parameterNodes: number[] = [];
  private readonly literals = new Map<number, number>();

  parameter(name: string, value: Tensor, origin?: Origin): number {
    this.feeds.set(name, value);
    this.parameterNames.push(name);
    const index = this.graph.parameter(name, value, origin);
    this.parameterNodes.push(index);
    return index;
  }

  constant(name: string, value: Tensor, origin?: Origin): number {
    this.feeds.set(name, value);
    return this.graph.constant(name, value, origin);
  }

  /** A number written in the problem itself; one leaf per distinct value, named by the number. */
  literal(value: number): number {
    const known = this.literals.get(value);
    if (known !== undefined) return known;
    const index = this.constant(String(value), scalar(value));
    this.literals.set(value, index);
    return index;
  }

  /** The gradients wanted are those of the parameters and of any extra nodes named here. */
  finish(output: number, alsoDifferentiate: Iterable<number> = []): CompiledProblem {
    return {
      graph: this.graph.build(),
      feeds: this.feeds,
      output,
      parameters: this.parameterNames,
      differentiate: new Set([...this.parameterNodes, ...alsoDifferentiate]),
    };
  }
}
