/** Where a piece of expression text starts (1-based, as editors count). */
export interface At {
  readonly line: number;
  readonly column: number;
}

/** The characters a piece of expression text spans: offsets into the text, the end exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type BinaryOperator = "+" | "-" | "*" | "/" | "@" | "^";

/** `at` is where a message about the node points (a binary node's operator); `span` is all of its text. */
interface Located {
  readonly at: At;
  readonly span: Span;
}

export type Expr = Located &
  (
    | { readonly kind: "number"; readonly value: number }
    | { readonly kind: "name"; readonly name: string }
    | { readonly kind: "neg"; readonly operand: Expr }
    | { readonly kind: "binary"; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr }
    | { readonly kind: "transpose"; readonly operand: Expr }
    | {
        readonly kind: "call";
        readonly fn: string;
        readonly args: readonly Expr[];
        readonly keywords: readonly Keyword[];
      }
  );

/** name=value inside a call, for an op's attributes: sum(x, axis=0), mse(y, p, reduction="sum"). */
export interface Keyword {
  readonly name: string;
  readonly value: number | string | null;
  readonly at: At;
}

export type Statement =
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr; readonly at: At }
  | { readonly kind: "expr"; readonly value: Expr; readonly at: At };
