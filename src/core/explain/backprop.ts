import type { CompiledNetwork, Layout } from "../compile/network.js";
import type { OpNode } from "../graph.js";
import { type Formula, ONE, partialName, plus, symbol, times, transposed } from "../ops/formula.js";
import type { Solution } from "../problem.js";
import { isScalar, type Tensor, zeros } from "../tensor.js";
import { type Numbers, numbers, type Rendered, rendered } from "./render.js";

/** One line of a derivation: what is computed, by which formula, and its value (with the values it combines). */
export interface Step extends Numbers {
  readonly name: Rendered;
  readonly formula: Rendered;
  readonly parts?: readonly ({ readonly name: Rendered } & Numbers)[];
}

export interface Backprop {
  readonly kind: "backprop";
  readonly layout: Layout;
  readonly steps: readonly Step[];
}

const sub = (base: string, latexBase: string, l: number | string) => symbol(`${base}${l}`, `${latexBase}_{${l}}`);

/**
 * The homework's notation for a network: x, w1, z1, a1, …, ŷ, y, L for scalars and X, W1, Z1, A1, …, Ŷ, Y
 * for matrices.
 */
export function networkSymbols(net: CompiledNetwork): Map<number, Formula> {
  const shapeOf = (i: number) => net.graph.nodes[i];
  const letter = (i: number, lower: string, upper: string) => (isScalar(shapeOf(i).shape) ? lower : upper);
  const out = new Map<number, Formula>();
  const input = net.graph.nodes.find((n) => n.kind === "constant" && n.name === "input");
  const target = net.graph.nodes.find((n) => n.kind === "constant" && n.name === "target");
  if (input) out.set(input.index, symbol(letter(input.index, "x", "X")));
  if (target) out.set(target.index, symbol(letter(target.index, "y", "Y")));
  net.layers.forEach((layer, i) => {
    const l = i + 1;
    out.set(layer.weight, sub(letter(layer.weight, "w", "W"), letter(layer.weight, "w", "W"), l));
    if (layer.bias !== undefined) out.set(layer.bias, sub("b", "b", l));
    out.set(layer.preActivation, sub(letter(layer.preActivation, "z", "Z"), letter(layer.preActivation, "z", "Z"), l));
    const last = i === net.layers.length - 1;
    const a = letter(layer.activation, "a", "A");
    out.set(layer.activation, last ? symbol(a === "a" ? "ŷ" : "Ŷ", a === "a" ? "\\hat{y}" : "\\hat{Y}") : sub(a, a, l));
  });
  out.set(net.output, symbol("L"));
  if (net.penalty !== undefined) {
    out.set(net.dataLoss, symbol("L_data", "L_{\\text{data}}"));
    out.set(net.penalty, symbol("R", "R"));
  }
  return out;
}

/**
 * The backward recurrences of a layer stack, layer by layer from the output: the output gradient, each
 * δ_l = ∂L/∂Z_l, and from it ∂L/∂W_l and ∂L/∂b_l. Values are the ones the reverse pass computed; act'(Z_l) is
 * the activation's own backward applied to ones.
 */
export function backprop(
  net: CompiledNetwork,
  layout: Layout,
  solution: Solution,
  symbols: readonly Formula[],
  digits: number,
): Backprop {
  const { graph } = net;
  const grad = (i: number) => solution.grads[i] ?? zeros(graph.nodes[i].shape.rows, graph.nodes[i].shape.cols);
  const show = (t: Tensor) => numbers(t, digits);
  const columns = layout === "columns";
  const steps: Step[] = [];
  const L = net.layers.length;

  const lossNode = graph.nodes[net.dataLoss] as OpNode;
  const last = net.layers[L - 1];
  const outputGradient = partialName(symbols[net.output], symbols[last.activation]);
  steps.push({
    name: rendered(outputGradient),
    formula: rendered(
      lossNode.op.math.vjp(
        1,
        ONE,
        lossNode.inputs.map((i) => symbols[i]),
        symbols[net.dataLoss],
        lossNode.attrs,
      ),
    ),
    ...show(grad(last.activation)),
  });

  for (let i = L - 1; i >= 0; i--) {
    const layer = net.layers[i];
    const l = i + 1;
    const delta = sub("δ", "\\delta", l);
    const next = net.layers[i + 1];
    const upstream =
      i === L - 1
        ? outputGradient
        : columns
          ? times(transposed(symbols[next.weight]), sub("δ", "\\delta", l + 1))
          : times(sub("δ", "\\delta", l + 1), transposed(symbols[next.weight]));
    const act = graph.nodes[layer.activation] as OpNode;
    const z = solution.values[layer.preActivation];
    const formula = act.op.math.vjp(0, upstream, [symbols[layer.preActivation]], symbols[layer.activation], act.attrs);
    const parts = [{ name: rendered(upstream), ...show(grad(layer.activation)) }];
    const derivative = act.op.math.partial(0, [symbols[layer.preActivation]], symbols[layer.activation], [], act.attrs);
    if (act.op.name !== "softmax" && derivative.text !== "1") {
      const ones = { rows: z.rows, cols: z.cols, data: new Float64Array(z.data.length).fill(1) };
      const slope = act.op.backward(ones, [z], solution.values[layer.activation], act.attrs, [true])[0] as Tensor;
      parts.push({ name: rendered(derivative), ...show(slope) });
    }
    steps.push({
      name: rendered(delta),
      formula: rendered(equation(delta, formula)),
      ...show(grad(layer.preActivation)),
      parts,
    });

    const previous =
      i === 0 ? symbols[graph.nodes.findIndex((n) => n.name === "input")] : symbols[net.layers[i - 1].activation];
    let weightFormula = columns ? times(delta, transposed(previous)) : times(transposed(previous), delta);
    if (net.penalty !== undefined)
      weightFormula = plus(weightFormula, times(symbol("2λ", "2\\lambda"), symbols[layer.weight]));
    const weightGradient = partialName(symbols[net.output], symbols[layer.weight]);
    steps.push({
      name: rendered(weightGradient),
      formula: rendered(equation(weightGradient, weightFormula)),
      ...show(grad(layer.weight)),
    });
    if (layer.bias !== undefined) {
      const biasGradient = partialName(symbols[net.output], symbols[layer.bias]);
      const sums = columns
        ? symbol(`δ${l}·1 (the row sums of δ${l})`, `\\delta_{${l}} \\mathbf{1}`)
        : symbol(`1ᵀ·δ${l} (the column sums of δ${l})`, `\\mathbf{1}^{\\top} \\delta_{${l}}`);
      steps.push({
        name: rendered(biasGradient),
        formula: rendered(equation(biasGradient, sums)),
        ...show(grad(layer.bias)),
      });
    }
  }
  return { kind: "backprop", layout, steps };
}

function equation(left: Formula, right: Formula): Formula {
  return symbol(`${left.text} = ${right.text}`, `${left.latex} = ${right.latex}`);
}
