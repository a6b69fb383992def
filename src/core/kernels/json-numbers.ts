import { readFileSync } from "node:fs";
import { growTo, WA, type WasmMemory } from "./webassembly.js";

/**
 * JSON's number lists both ways, by the WebAssembly module built from wasm/numbers.as: lists of float64 as
 * JSON text, byte for byte what JSON.stringify writes (Ryū's shortest round-trip digits, then ECMAScript's
 * Number::toString layout), and the number lists of a JSON text as float64, each the value JSON.parse gives
 * (Clinger's fast path, else Eisel-Lemire). Both about twice as fast as V8's own: large requests and answers
 * are mostly numbers, and reading and printing them is most of parsing and serializing them. Where the module
 * is missing or the engine cannot run it, `jsonNumbers()` is null and callers use JSON.parse and
 * JSON.stringify as before.
 */

interface Exports {
  readonly memory: WasmMemory;
  heapBase(): number;
  pow5Table(): number;
  pow5InvTable(): number;
  writeList(src: number, count: number, dst: number): number;
  writeRows(src: number, rows: number, columns: number, dst: number): number;
  pow10Table(): number;
  scan(src: number, length: number, counts: number, into: number): number;
  numbers(): number;
  lists(): number;
}

/** The most bytes a number takes ("-1.2345678901234567e-308" and a comma), and a row's brackets. */
const NUMBER_BYTES = 25;
const ROW_BYTES = 2;

// Ryū's tables: powers of five with 125 significant bits, as numbers.as describes them.
const POW5_ENTRIES = 326;
const POW5_INV_ENTRIES = 342;
const BITS = 125n;
const WORD = (1n << 64n) - 1n;
const pow5bits = (e: number) => BigInt(((e * 1217359) >>> 19) + 1);

/** 5^i scaled to 125 significant bits. */
export function pow5Entry(i: number): bigint {
  const shift = pow5bits(i) - BITS;
  const power = 5n ** BigInt(i);
  return shift >= 0n ? power >> shift : power << -shift;
}

/** 2^(pow5bits(q) − 1 + 125) / 5^q, rounded up (its error must be on the side Ryū's bounds expect). */
export function pow5InvEntry(q: number): bigint {
  return (1n << (pow5bits(q) - 1n + BITS)) / 5n ** BigInt(q) + 1n;
}

const POW10_MIN = -348;
const POW10_MAX = 347;
const bitLength = (v: bigint) => v.toString(2).length;

/** 10^e's first 128 bits, rounded down (Eisel-Lemire's table). */
export function pow10Entry(e: number): bigint {
  if (e >= 0) {
    const power = 10n ** BigInt(e);
    const shift = BigInt(bitLength(power) - 128);
    return shift >= 0n ? power >> shift : power << -shift;
  }
  const divisor = 10n ** BigInt(-e);
  return (1n << BigInt(127 + bitLength(divisor))) / divisor;
}

function fill(memory: ArrayBuffer, at: number, entries: number, entry: (i: number) => bigint): void {
  const words = new BigUint64Array(memory, at, 2 * entries);
  for (let i = 0; i < entries; i++) {
    const value = entry(i);
    words[2 * i] = value & WORD;
    words[2 * i + 1] = value >> 64n;
  }
}

const wasmPath = new URL("./wasm/numbers.wasm", import.meta.url);

/** Instantiates the module from its bytes, with its tables filled. */
export function jsonNumbersFromBytes(bytes: Uint8Array): JsonNumbers {
  const ex = new WA.Instance(new WA.Module(bytes), {}).exports as Exports;
  fill(ex.memory.buffer, ex.pow5Table(), POW5_ENTRIES, pow5Entry);
  fill(ex.memory.buffer, ex.pow5InvTable(), POW5_INV_ENTRIES, pow5InvEntry);
  fill(ex.memory.buffer, ex.pow10Table(), POW10_MAX - POW10_MIN + 1, (i) => pow10Entry(i + POW10_MIN));
  const base = Math.ceil(ex.heapBase() / 8) * 8;
  let heap = new Float64Array(ex.memory.buffer);
  let bytesView = new Uint8Array(ex.memory.buffer);

  /** Views of the memory as it is now (growing it detaches the old ones). */
  const refresh = () => {
    if (bytesView.byteLength === ex.memory.buffer.byteLength) return;
    heap = new Float64Array(ex.memory.buffer);
    bytesView = new Uint8Array(ex.memory.buffer);
  };
  /** Grows the memory to at least `end` bytes: false where the engine will not give that much. */
  const grow = (end: number): boolean => {
    if (!growTo(ex.memory, end)) return false;
    refresh();
    return true;
  };
  /** Room for `count` numbers in `rows` rows: where they go and where their text goes, or null. */
  const reserve = (count: number, rows: number): { src: number; dst: number } | null => {
    const dst = base + 8 * count;
    return grow(dst + NUMBER_BYTES * count + ROW_BYTES * rows) ? { src: base, dst } : null;
  };

  return {
    list(values) {
      const count = values.length;
      const room = count === 0 ? null : reserve(count, 0);
      if (!room) return null;
      const { src, dst } = room;
      const at = src / 8;
      for (let i = 0; i < count; i++) {
        const value = values[i];
        if (typeof value !== "number") return null;
        heap[at + i] = value;
      }
      return bytesView.subarray(dst, ex.writeList(src, count, dst));
    },
    rows(rows, from, to) {
      const first = rows[from];
      const columns = Array.isArray(first) ? first.length : 0;
      const room = columns === 0 || to <= from ? null : reserve((to - from) * columns, to - from);
      if (!room) return null;
      const { src, dst } = room;
      let at = src / 8;
      for (let r = from; r < to; r++) {
        const row = rows[r];
        if (!Array.isArray(row) || row.length !== columns) return null;
        for (let j = 0; j < columns; j++) {
          const value: unknown = row[j];
          if (typeof value !== "number") return null;
          heap[at++] = value;
        }
      }
      return bytesView.subarray(dst, ex.writeRows(src, to - from, columns, dst));
    },
    read(json) {
      const counts = base + Math.ceil(json.length / 8) * 8;
      const into = counts + 8 * Math.ceil(json.length / 32);
      if (!grow(into)) return null;
      bytesView.set(json, base);
      const length = ex.scan(base, json.length, counts, into);
      refresh();
      if (length < 0) return null;
      const lists = ex.lists();
      const starts = new Int32Array(lists + 1);
      const sizes = new Int32Array(ex.memory.buffer, counts, lists);
      starts[0] = ex.numbers() / 8;
      for (let k = 0; k < lists; k++) starts[k + 1] = starts[k] + sizes[k];
      return {
        text: Buffer.from(ex.memory.buffer, base, length).toString("utf8"),
        lists,
        list(k) {
          // Pushed, not preallocated: JSON.parse's arrays are packed, and so are these.
          const values: number[] = [];
          for (let i = starts[k]; i < starts[k + 1]; i++) values.push(heap[i]);
          return values;
        },
      };
    },
    get memoryBytes() {
      return ex.memory.buffer.byteLength;
    },
  };
}

/** A JSON text with its number lists read out (JsonNumbers.read). */
export interface ReadLists {
  /** The text with each list replaced by the string "\uE000<k>" (the character itself, U+E000): valid JSON. */
  readonly text: string;
  /** How many lists were read out. */
  readonly lists: number;
  /** List k's numbers, as JSON.parse would give them; valid until the printer is used again. */
  list(k: number): number[];
}

/**
 * The printer and reader. Each result is a view of its memory, valid until the next call: copy it before
 * printing more. null where a value is not a number, the rows are empty or not all as long as the first, or
 * the memory cannot grow to hold them.
 */
export interface JsonNumbers {
  /** JSON.stringify(values) less its brackets: "x,y,…". */
  list(values: readonly unknown[]): Uint8Array | null;
  /** JSON.stringify(rows.slice(from, to)) less its brackets: "[a,b],[c,d],…". */
  rows(rows: readonly unknown[], from: number, to: number): Uint8Array | null;
  /**
   * The number lists (arrays of one or more numbers and nothing else, of at least 16 bytes) of the UTF-8 JSON
   * text, read out of it; null where the text holds U+E000, the placeholders' character, or where the memory
   * cannot grow to hold it. A list with a number this cannot read exactly stays in the text, for JSON.parse.
   */
  read(json: Uint8Array): ReadLists | null;
  /** The size of its memory, which grows to the largest text read so far. */
  readonly memoryBytes: number;
}

let loaded: JsonNumbers | null | undefined;

/** Past this size its memory is given back, with the instance, before the next use. */
const RETAIN_BYTES = 32 * 2 ** 20;

/** The module, loaded on first use; null where it cannot run. */
export function jsonNumbers(): JsonNumbers | null {
  if (loaded && loaded.memoryBytes > RETAIN_BYTES) loaded = undefined;
  if (loaded !== undefined) return loaded;
  try {
    loaded = jsonNumbersFromBytes(readFileSync(wasmPath));
  } catch {
    loaded = null;
  }
  return loaded;
}
