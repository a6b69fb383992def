import { type JsonNumbers, jsonNumbers } from "../core/kernels/json-numbers.js";

/**
 * Writes JSON.stringify(value), as UTF-8, to `onPiece` in pieces of about `size` bytes, so that a large answer
 * can be on its way while the rest is still being serialized. Joined, the pieces are exactly the bytes of
 * JSON.stringify(value): lists of numbers and blocks of a matrix's rows are printed by the WebAssembly printer
 * (core/kernels/json-numbers.ts, byte for byte JSON.stringify's text, twice as fast) or, where it cannot
 * print them, by JSON.stringify, as is every other leaf; only the objects and arrays around them are walked
 * here, in JSON.stringify's order. Each piece is a Buffer of its own (not a slice of Buffer's shared pool), so
 * it can be transferred to another thread.
 */
export function jsonPieces(value: unknown, size: number, onPiece: (piece: Buffer) => void): void {
  let piece = Buffer.allocUnsafeSlow(size);
  let used = 0;
  /** Room for `bytes` more in the current piece, or a new piece: no character is cut in two. */
  const room = (bytes: number) => {
    if (used + bytes <= piece.length) return;
    if (used > 0) onPiece(piece.subarray(0, used));
    piece = Buffer.allocUnsafeSlow(Math.max(size, bytes));
    used = 0;
  };
  const out: Output = {
    text(text) {
      // Short texts are bounded by 3 UTF-8 bytes per UTF-16 unit rather than measured.
      room(text.length < 1024 ? 3 * text.length : Buffer.byteLength(text));
      used += piece.write(text, used);
    },
    bytes(bytes) {
      room(bytes.length);
      piece.set(bytes, used);
      used += bytes.length;
    },
  };
  walk(value, out, size, jsonNumbers());
  if (used > 0) onPiece(piece.subarray(0, used));
}

interface Output {
  text(text: string): void;
  /** UTF-8 bytes, copied before the call returns. */
  bytes(bytes: Uint8Array): void;
}

/** About how many characters a float64 takes in JSON, to cut a matrix into blocks of rows near `size`. */
const CHARS_PER_NUMBER = 20;

function walk(value: unknown, out: Output, size: number, printer: JsonNumbers | null): void {
  if (!isContainer(value)) {
    const printed = Array.isArray(value) ? printer?.list(value) : null;
    if (printed) {
      out.text("[");
      out.bytes(printed);
      out.text("]");
    } else {
      out.text(JSON.stringify(value) ?? "null");
    }
  } else if (Array.isArray(value)) {
    const first: unknown = value[0];
    const width = Array.isArray(first) ? Math.max(1, first.length) : 1;
    // Rows of leaves are stringified a block at a time: "[r1,r2]" less its brackets is "r1,r2".
    const block = isContainer(first) ? 1 : Math.max(1, Math.floor(size / (CHARS_PER_NUMBER * width)));
    out.text("[");
    for (let i = 0; i < value.length; i += block) {
      if (i > 0) out.text(",");
      const end = Math.min(value.length, i + block);
      const printed = block === 1 ? null : printer?.rows(value, i, end);
      if (printed) out.bytes(printed);
      else if (block === 1) walk(value[i], out, size, printer);
      else out.text(JSON.stringify(value.slice(i, end)).slice(1, -1));
    }
    out.text("]");
  } else {
    let separator = "{";
    for (const key of Object.keys(value)) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
      out.text(`${separator}${JSON.stringify(key)}:`);
      separator = ",";
      walk(member, out, size, printer);
    }
    out.text(separator === "{" ? "{}" : "}");
  }
}

/**
 * Objects and arrays worth walking into: a plain array of leaves is cheaper stringified whole. Whatever this
 * says, the text is the same, since a value not walked is stringified whole; it only decides where pieces end.
 */
function isContainer(value: unknown): value is object {
  if (value === null || typeof value !== "object" || "toJSON" in value) return false;
  if (Array.isArray(value)) return value.length > 0 && value[0] !== null && typeof value[0] === "object";
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
