/**
 * Portable float64 GEMM kernels in plain JavaScript: C = op(A)·op(B), where op(X) is X or Xᵀ as the flags say,
 * reading transposed operands in place instead of materializing them.
 *
 * Every kernel here (and the WebAssembly one in gemm-wasm.ts) sums each entry of C in the order
 * k = 0, 1, …, K-1 starting from zero, one rounded multiply and one rounded add per term, which is exactly
 * what the reference i-k-j kernel does: the results are bit for bit the reference's, not merely close.
 */

/** Dense row-major storage of one operand and whether the product reads it transposed. */
export interface Operand {
  readonly data: Float64Array;
  /** Stored rows and columns (before any transposition). */
  readonly rows: number;
  readonly cols: number;
  readonly transposed: boolean;
}

/** The m×k·k×n dimensions of op(A)·op(B); the caller has checked that the inner ones agree. */
export interface Dims {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

export function dims(a: Operand, b: Operand): Dims {
  return {
    m: a.transposed ? a.cols : a.rows,
    k: a.transposed ? a.rows : a.cols,
    n: b.transposed ? b.rows : b.cols,
  };
}

/**
 * Straight loops without blocking, for small products where packing costs more than it saves. Each case
 * keeps the innermost loop on unit stride where the layout allows it.
 */
export function gemmSimple(a: Operand, b: Operand, c: Float64Array): void {
  const { m, n, k } = dims(a, b);
  const ad = a.data;
  const bd = b.data;
  const lda = a.cols;
  const ldb = b.cols;
  if (!a.transposed && !b.transposed) {
    // The reference's i-k-j order.
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      const ai = i * lda;
      for (let p = 0; p < k; p++) {
        const aip = ad[ai + p];
        const bp = p * ldb;
        for (let j = 0; j < n; j++) c[ci + j] += aip * bd[bp + j];
      }
    }
  } else if (a.transposed && !b.transposed) {
    // Aᵀ·B: row p of A and row p of B make the p-th term of every entry.
    for (let p = 0; p < k; p++) {
      const ap = p * lda;
      const bp = p * ldb;
      for (let i = 0; i < m; i++) {
        const api = ad[ap + i];
        const ci = i * n;
        for (let j = 0; j < n; j++) c[ci + j] += api * bd[bp + j];
      }
    }
  } else {
    // A·Bᵀ (and Aᵀ·Bᵀ): dot products, B's rows read along unit stride.
    const sa = a.transposed ? lda : 1;
    for (let i = 0; i < m; i++) {
      const ai = a.transposed ? i : i * lda;
      const ci = i * n;
      for (let j = 0; j < n; j++) {
        const bj = j * ldb;
        let s = c[ci + j];
        for (let p = 0; p < k; p++) s += ad[ai + p * sa] * bd[bj + p];
        c[ci + j] = s;
      }
    }
  }
}

// Blocking of the portable kernel: a KC×NC block of op(B) and an MC×KC block of op(A) are packed into
// contiguous panels (NR columns and MR rows wide) that stay in cache while a 4×4 register tile sweeps them.
const MR = 4;
const NR = 4;
const MC = 64;
const KC = 256;
const NC = 512;

let packedA = new Float64Array(0);
let packedB = new Float64Array(0);
const tile = new Float64Array(MR * NR);

function packA(a: Operand, i0: number, p0: number, mc: number, kc: number, dst: Float64Array): void {
  const ad = a.data;
  const lda = a.cols;
  let d = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    for (let p = 0; p < kc; p++) {
      const q = p0 + p;
      for (let r = 0; r < MR; r++) {
        const i = i0 + ir + r;
        dst[d++] = r >= rows ? 0 : a.transposed ? ad[q * lda + i] : ad[i * lda + q];
      }
    }
  }
}

function packB(b: Operand, p0: number, j0: number, kc: number, nc: number, dst: Float64Array): void {
  const bd = b.data;
  const ldb = b.cols;
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    for (let p = 0; p < kc; p++) {
      const q = p0 + p;
      for (let s = 0; s < NR; s++) {
        const j = j0 + jr + s;
        dst[d++] = s >= cols ? 0 : b.transposed ? bd[j * ldb + q] : bd[q * ldb + j];
      }
    }
  }
}

/** C[c0…] (row stride ldc) += the 4×4 product of a packed A panel (from pa) and a packed B panel (from pb). */
function micro(
  kc: number,
  pa: Float64Array,
  ia: number,
  pb: Float64Array,
  ib: number,
  c: Float64Array,
  c0: number,
  ldc: number,
): void {
  const c1 = c0 + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  let x00 = c[c0];
  let x01 = c[c0 + 1];
  let x02 = c[c0 + 2];
  let x03 = c[c0 + 3];
  let x10 = c[c1];
  let x11 = c[c1 + 1];
  let x12 = c[c1 + 2];
  let x13 = c[c1 + 3];
  let x20 = c[c2];
  let x21 = c[c2 + 1];
  let x22 = c[c2 + 2];
  let x23 = c[c2 + 3];
  let x30 = c[c3];
  let x31 = c[c3 + 1];
  let x32 = c[c3 + 2];
  let x33 = c[c3 + 3];
  for (let p = 0; p < kc; p++) {
    const b0 = pb[ib];
    const b1 = pb[ib + 1];
    const b2 = pb[ib + 2];
    const b3 = pb[ib + 3];
    let a = pa[ia];
    x00 += a * b0;
    x01 += a * b1;
    x02 += a * b2;
    x03 += a * b3;
    a = pa[ia + 1];
    x10 += a * b0;
    x11 += a * b1;
    x12 += a * b2;
    x13 += a * b3;
    a = pa[ia + 2];
    x20 += a * b0;
    x21 += a * b1;
    x22 += a * b2;
    x23 += a * b3;
    a = pa[ia + 3];
    x30 += a * b0;
    x31 += a * b1;
    x32 += a * b2;
    x33 += a * b3;
    ia += MR;
    ib += NR;
  }
  c[c0] = x00;
  c[c0 + 1] = x01;
  c[c0 + 2] = x02;
  c[c0 + 3] = x03;
  c[c1] = x10;
  c[c1 + 1] = x11;
  c[c1 + 2] = x12;
  c[c1 + 3] = x13;
  c[c2] = x20;
  c[c2 + 1] = x21;
  c[c2 + 2] = x22;
  c[c2 + 3] = x23;
  c[c3] = x30;
  c[c3 + 1] = x31;
  c[c3 + 2] = x32;
  c[c3 + 3] = x33;
}

/** Cache-blocked, register-tiled GEMM in plain JavaScript: C += op(A)·op(B), C being m×n row-major. */
export function gemmBlocked(a: Operand, b: Operand, c: Float64Array): void {
  const { m, n, k } = dims(a, b);
  if (packedA.length === 0) {
    packedA = new Float64Array(MC * KC);
    packedB = new Float64Array(KC * NC);
  }
  const pa = packedA;
  const pb = packedB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, pc, jc, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, ic, pc, mc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          const ib = jr * kc;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = Math.min(MR, mc - ir);
            const ia = ir * kc;
            const c0 = (ic + ir) * n + jc + jr;
            if (rows === MR && cols === NR) {
              micro(kc, pa, ia, pb, ib, c, c0, n);
              continue;
            }
            // An edge tile goes through a zero-padded copy, so the micro-kernel never reads or writes
            // outside C; only the entries inside C are copied back.
            tile.fill(0);
            for (let r = 0; r < rows; r++) for (let s = 0; s < cols; s++) tile[r * NR + s] = c[c0 + r * n + s];
            micro(kc, pa, ia, pb, ib, tile, 0, NR);
            for (let r = 0; r < rows; r++) for (let s = 0; s < cols; s++) c[c0 + r * n + s] = tile[r * NR + s];
          }
        }
      }
    }
  }
}
