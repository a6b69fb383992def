import type { DocFormula, Piece } from "./types.js";

/** Mathematics written twice: plain text for terminals and JSON, LaTeX for rendering. */
export interface Formula {
  readonly text: string;
  readonly latex: string;
  /** Whether it can stand as an operand without parentheses. */
  readonly atomic: boolean;
}

export function symbol(text: string, latex = text): Formula {
  return { text, latex, atomic: true };
}

export function compound(text: string, latex: string): Formula {
  return { text, latex, atomic: false };
}

/** Parenthesized unless it is atomic already. */
export function group(f: Formula): Formula {
  return f.atomic ? f : { text: `(${f.text})`, latex: `\\left(${f.latex}\\right)`, atomic: true };
}

export const ONE = symbol("1");

/** ∂out/∂of, the name of one factor of the chain rule. */
export function partialName(out: Formula, of: Formula): Formula {
  return symbol(`∂${group(out).text}/∂${group(of).text}`, `\\frac{\\partial ${out.latex}}{\\partial ${of.latex}}`);
}

/** A function applied to an argument: σ(z), tanh(z). */
export function apply(text: string, latex: string, x: Formula): Formula {
  return symbol(`${text}(${x.text})`, `${latex}\\left(${x.latex}\\right)`);
}

/** Product of factors, written with · in text and juxtaposition (or \cdot between numbers) in LaTeX. */
export function times(...factors: Formula[]): Formula {
  const kept = factors.filter((f) => f.text !== "1");
  if (kept.length === 0) return ONE;
  if (kept.length === 1) return kept[0];
  const parts = kept.map(group);
  return compound(parts.map((p) => p.text).join("·"), parts.map((p) => p.latex).join(" \\cdot "));
}

export function negate(f: Formula): Formula {
  return compound(`-${group(f).text}`, `-${group(f).latex}`);
}

export function over(a: Formula, b: Formula): Formula {
  return compound(`${group(a).text}/${group(b).text}`, `\\frac{${a.latex}}{${b.latex}}`);
}

export function plus(a: Formula, b: Formula): Formula {
  return compound(`${a.text} + ${b.text}`, `${a.latex} + ${b.latex}`);
}

export function minus(a: Formula, b: Formula): Formula {
  return compound(`${a.text} - ${group(b).text}`, `${a.latex} - ${group(b).latex}`);
}

/** Elementwise (Hadamard) product, for gradients of matrices. */
export function hadamard(a: Formula, b: Formula): Formula {
  return compound(`${group(a).text} ⊙ ${group(b).text}`, `${group(a).latex} \\odot ${group(b).latex}`);
}

export function transposed(f: Formula): Formula {
  return symbol(`${group(f).text}ᵀ`, `${group(f).latex}^{\\top}`);
}

/** How a name becomes LaTeX: w1 → w_{1}, yhat → \hat{y}, alpha → \alpha, anything else upright. */
export function nameToLatex(name: string): string {
  const greek = new Set(["alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau"]);
  const m = /^([A-Za-z]+?)_?(\d+)$/.exec(name);
  const base = (b: string) =>
    greek.has(b)
      ? `\\${b}`
      : b.endsWith("hat") && b.length > 3
        ? `\\hat{${b.slice(0, -3)}}`
        : b.length === 1
          ? b
          : `\\mathrm{${b.replaceAll("_", "\\_")}}`;
  return m ? `${base(m[1])}_{${m[2]}}` : base(name);
}

export function docFormula(text: string, latex: string): DocFormula {
  return { text, latex };
}

/** A piecewise formula: its text lists the pieces as "1 if x > 0; 0 otherwise". */
export function piecewise(cases: readonly Piece[], latex: string): DocFormula {
  const text = cases.map((c) => (c.when ? `${c.value} if ${c.when}` : `${c.value} otherwise`)).join("; ");
  return { text, latex, cases };
}
