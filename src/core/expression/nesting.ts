import { CoreError, positionAt } from "../errors.js";

/**
 * How many parentheses, calls, signs and powers may sit inside one another. The parser recurses once for each,
 * so without a limit of its own the call stack would set one, and a worker thread's stack is four times the
 * event loop's: the same text would parse in one and be refused in the other. 256 levels take about a third
 * of the event loop's stack; homework nests a few levels deep.
 */
export const MAX_NESTING = 256;

// Whitespace, a comment, a string (closed or not), a number with its exponent (so that the sign in 1e-5 is not
// read as an operator), a name, ** as one token, or any other single character.
const token = /[ \t\r]+|#[^\n]*|"[^"\n]*"?|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|\*\*|[\s\S]/y;

/**
 * Refuses text nested deeper than MAX_NESTING, before the parser recurses into it. Counts what the parser
 * recurses on: an open parenthesis (a call's too), and within one operand the signs and the right-associative
 * powers still open. A binary operator, a comma, = or a new statement ends an operand's chain of signs and
 * powers; long sums and runs of transposes are loops in the parser, not nesting, so they cost nothing here.
 */
export function checkNesting(text: string): void {
  // Per open parenthesis, the depth outside it and the chain it interrupted, which goes on after it closes.
  const outer: { depth: number; chain: number }[] = [];
  let depth = 0;
  let chain = 0;
  let afterOperand = false;
  token.lastIndex = 0;
  while (token.lastIndex < text.length) {
    const start = token.lastIndex;
    const t = (token.exec(text) as RegExpExecArray)[0];
    const c = t[0];
    if (c === " " || c === "\t" || c === "\r" || c === "#") continue;
    let opens = false;
    if (c === "(") {
      outer.push({ depth, chain });
      depth += chain + 1;
      chain = 0;
      opens = true;
    } else if (c === ")") {
      ({ depth, chain } = outer.pop() ?? { depth: 0, chain: 0 });
    } else if (t === "^" || t === "**" || ((c === "-" || c === "+") && !afterOperand)) {
      chain++;
      opens = true;
    } else if (!/[\w."']/.test(c)) {
      chain = 0;
    }
    afterOperand = /[\w.")']/.test(c);
    if (opens && depth + chain > MAX_NESTING) {
      throw new CoreError(
        "limit",
        `the expression nests more than ${MAX_NESTING} levels deep here (parentheses, calls, signs and powers inside one another); split it into several statements`,
        { position: positionAt(text, start) },
      );
    }
  }
}
