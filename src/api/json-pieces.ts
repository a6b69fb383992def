/**
 * Writes JSON.stringify(value), as UTF-8, to `onPiece` in pieces of about `size` bytes, so that a large answer
 * can be on its way while the rest is still being serialized. Joined, the pieces are exactly the bytes of
 * JSON.stringify(value): every leaf, and every block of a matrix's rows, is stringified by JSON.stringify
 * itself; only the objects and arrays around them are walked here, in JSON.stringify's order. Each piece is
 * a Buffer of its own (not a slice of Buffer's shared pool), so it can be transferred to another thread.
 */
export function jsonPieces(value: unknown, size: number, onPiece: (piece: Buffer) => void): void {
  let piece = Buffer.allocUnsafeSlow(size);
  let used = 0;
  const emit = (text: string) => {
    // Short texts are bounded by 3 UTF-8 bytes per UTF-16 unit rather than measured; a text that may not fit
    // starts a new piece, so that no character is cut in two.
    const bytes = text.length < 1024 ? 3 * text.length : Buffer.byteLength(text);
    if (used + bytes > piece.length) {
      if (used > 0) onPiece(piece.subarray(0, used));
      piece = Buffer.allocUnsafeSlow(Math.max(size, bytes));
      used = 0;
    }
    used += piece.write(text, used);
  };
  walk(value, emit, size);
  if (used > 0) onPiece(piece.subarray(0, used));
}

/** About how many characters a float64 takes in JSON, to cut a matrix into blocks of rows near `size`. */
const CHARS_PER_NUMBER = 20;

function walk(value: unknown, emit: (text: string) => void, size: number): void {
  if (!isContainer(value)) {
    emit(JSON.stringify(value) ?? "null");
  } else if (Array.isArray(value)) {
    const first: unknown = value[0];
    const width = Array.isArray(first) ? Math.max(1, first.length) : 1;
    // Rows of leaves are stringified a block at a time: "[r1,r2]" less its brackets is "r1,r2".
    const block = isContainer(first) ? 1 : Math.max(1, Math.floor(size / (CHARS_PER_NUMBER * width)));
    emit("[");
    for (let i = 0; i < value.length; i += block) {
      if (i > 0) emit(",");
      if (block === 1) walk(value[i], emit, size);
      else emit(JSON.stringify(value.slice(i, i + block)).slice(1, -1));
    }
    emit("]");
  } else {
    let separator = "{";
    for (const key of Object.keys(value)) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
      emit(`${separator}${JSON.stringify(key)}:`);
      separator = ",";
      walk(member, emit, size);
    }
    emit(separator === "{" ? "{}" : "}");
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
