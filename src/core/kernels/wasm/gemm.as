// AssemblyScript source of the WebAssembly SIMD (f64x2) float64 GEMM used by ../gemm-wasm.ts, and of its σ
// (at the end).
// Compiled by build.mjs beside it (npm run build:wasm, which npm run build, npm test and npm run dev run
// first) with AssemblyScript's compileString. The extension is .as, not .ts, so that tsc and Biome, which
// cover all of src/**/*.ts, leave this AssemblyScript (f64, v128, load<T>) alone.
//
// C (m×n, row-major, row stride ldc) = op(A)·op(B), where op(A) is m×k and op(B) is k×n (k ≥ 1):
//   transA = 0: A is stored m×k, entry (i, p) at a[i·lda + p];  transA = 1: A is stored k×m, (i, p) at a[p·lda + i]
//   transB = 0: B is stored k×n, entry (p, j) at b[p·ldb + j];  transB = 1: B is stored n×k, (p, j) at b[j·ldb + p]
// Strides are in elements, pointers in bytes. C's old contents never reach the result, so the caller need not zero it.
// The memory is imported and shared: gemm-wasm.ts runs one instance per thread on it, each thread computing
// its own columns (or rows) of C with its own `work` area, so the module itself needs no atomics.
//
// The loops are BLIS's: B is packed by KC×NC blocks into NR-column panels, A by MC×KC blocks into
// MR-row panels, and an MR×NR micro-kernel keeps its tile of C in registers. The tile starts at +0 in the
// first KC block and is loaded from C in the later ones, and stored back after each; every lane computes
// c = c + a·b (WebAssembly has no fused multiply-add outside relaxed SIMD), so each entry of C is summed in
// the order k = 0, 1, …, K-1 from +0: bit for bit what the reference i-k-j kernel computes.

const MR: i32 = 4;
const NR: i32 = 4;
const MC: i32 = 128;
const KC: i32 = 256;
const NC: i32 = 1024;

/** Bytes of scratch the caller must provide at `work`: the packed A and B blocks and one edge tile. */
export function workspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 8;
}

/** First byte past the module's static data: the caller's buffers start at or after it. */
export function heapBase(): usize {
  return __heap_base;
}

// Packing writes a panel of 4 rows of op(A) (or 4 columns of op(B)) as kc groups of 4 values, one group per
// p. Stored row-major, such a panel is either 4 values side by side in each of kc rows ("contiguous":
// A transposed, B as is) or 4 rows read along p ("strided": A as is, B transposed).

/** dst[4p + r] = src[p·step + r], for p < kc: src steps `step` bytes from one group to the next. */
function packContiguous(src: usize, step: usize, kc: i32, dst: usize): void {
  for (let p = 0; p < kc; p++) {
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    src += step;
    dst += 32;
  }
}

/** dst[4p + r] = row r of src at p, for p < kc: rows are `ld` bytes apart. */
function packStrided(src: usize, ld: usize, kc: i32, dst: usize): void {
  const r1 = src + ld;
  const r2 = r1 + ld;
  const r3 = r2 + ld;
  for (let p = 0; p < kc; p++) {
    const q = <usize>p << 3;
    store<f64>(dst, load<f64>(src + q));
    store<f64>(dst, load<f64>(r1 + q), 8);
    store<f64>(dst, load<f64>(r2 + q), 16);
    store<f64>(dst, load<f64>(r3 + q), 24);
    dst += 32;
  }
}

/**
 * A panel with only `count` < 4 valid rows (columns), padded with zeros: entry (r, p) of the panel is at
 * src + r·rStep + p·pStep.
 */
function packEdge(src: usize, rStep: usize, pStep: usize, count: i32, kc: i32, dst: usize): void {
  for (let p = 0; p < kc; p++) {
    for (let r = 0; r < 4; r++) {
      store<f64>(dst, r < count ? load<f64>(src + <usize>r * rStep + <usize>p * pStep) : 0);
      dst += 8;
    }
  }
}

/** Packs rows i0 … i0+mc-1, columns p0 … p0+kc-1 of op(A) into MR-row panels. */
function packA(a: usize, lda: i32, transA: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  const ld = <usize>lda << 3;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const i = <usize>(i0 + ir);
    // Entry (i, p) of op(A) is stored at (i, p), or at (p, i) when A is transposed.
    const src = transA ? a + <usize>p0 * ld + (i << 3) : a + i * ld + (<usize>p0 << 3);
    if (rows < MR) packEdge(src, transA ? 8 : ld, transA ? ld : 8, rows, kc, dst);
    else if (transA) packContiguous(src, ld, kc, dst);
    else packStrided(src, ld, kc, dst);
    dst += <usize>(MR * kc) << 3;
  }
}

/** Packs rows p0 … p0+kc-1, columns j0 … j0+nc-1 of op(B) into NR-column panels. */
function packB(b: usize, ldb: i32, transB: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb << 3;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const j = <usize>(j0 + jr);
    // Entry (p, j) of op(B) is stored at (p, j), or at (j, p) when B is transposed.
    const src = transB ? b + j * ld + (<usize>p0 << 3) : b + <usize>p0 * ld + (j << 3);
    if (cols < NR) packEdge(src, transB ? ld : 8, transB ? 8 : ld, cols, kc, dst);
    else if (transB) packStrided(src, ld, kc, dst);
    else packContiguous(src, ld, kc, dst);
    dst += <usize>(NR * kc) << 3;
  }
}

// 4×4 tile: 8 f64x2 accumulators, 2 B vectors and one broadcast A value live in registers. The tile starts
// from C's values when `accumulate` is set, from +0 otherwise.
function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  const zero = f64x2.splat(0);
  let x0 = accumulate ? v128.load(c) : zero;
  let y0 = accumulate ? v128.load(c, 16) : zero;
  let x1 = accumulate ? v128.load(c1) : zero;
  let y1 = accumulate ? v128.load(c1, 16) : zero;
  let x2 = accumulate ? v128.load(c2) : zero;
  let y2 = accumulate ? v128.load(c2, 16) : zero;
  let x3 = accumulate ? v128.load(c3) : zero;
  let y3 = accumulate ? v128.load(c3, 16) : zero;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    x0 = f64x2.add(x0, f64x2.mul(a, b0));
    y0 = f64x2.add(y0, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 8);
    x1 = f64x2.add(x1, f64x2.mul(a, b0));
    y1 = f64x2.add(y1, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 16);
    x2 = f64x2.add(x2, f64x2.mul(a, b0));
    y2 = f64x2.add(y2, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 24);
    x3 = f64x2.add(x3, f64x2.mul(a, b0));
    y3 = f64x2.add(y3, f64x2.mul(a, b1));
    pa += 32;
    pb += 32;
  }
  v128.store(c, x0);
  v128.store(c, y0, 16);
  v128.store(c1, x1);
  v128.store(c1, y1, 16);
  v128.store(c2, x2);
  v128.store(c2, y2, 16);
  v128.store(c3, x3);
  v128.store(c3, y3, 16);
}

export function gemm(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  lda: i32,
  transA: i32,
  b: usize,
  ldb: i32,
  transB: i32,
  c: usize,
  ldc: i32,
  work: usize,
): void {
  const pa = work;
  const pb = pa + <usize>(MC * KC * 8);
  const tile = pb + <usize>(KC * NC * 8);
  const ldcBytes = <usize>ldc << 3;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const accumulate = pc > 0;
      packB(b, ldb, transB, pc, jc, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, lda, transA, ic, pc, mc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pbj = pb + <usize>(jr * kc * 8);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pai = pa + <usize>(ir * kc * 8);
            const cij = c + ((<usize>(ic + ir) * ldc + jc + jr) << 3);
            if (rows === MR && cols === NR) {
              micro(kc, pai, pbj, cij, ldcBytes, accumulate);
            } else {
              if (accumulate) {
                for (let r = 0; r < MR; r++) {
                  for (let q = 0; q < NR; q++) {
                    const v: f64 = r < rows && q < cols ? load<f64>(cij + ((<usize>r * ldc + q) << 3)) : 0;
                    store<f64>(tile + (<usize>(r * NR + q) << 3), v);
                  }
                }
              }
              micro(kc, pai, pbj, tile, <usize>(NR * 8), accumulate);
              for (let r = 0; r < rows; r++) {
                for (let q = 0; q < cols; q++) {
                  store<f64>(cij + ((<usize>r * ldc + q) << 3), load<f64>(tile + (<usize>(r * NR + q) << 3)));
                }
              }
            }
          }
        }
      }
    }
  }
}

// σ(x) two entries at a time, bit for bit numerics.ts's sigmoid: the same fdlibm exp of -|x|, with the same
// operations in the same order (every lane op is IEEE-rounded like JavaScript's), and k chosen per lane as there.
const SIGMOID_SAFE: f64 = 707; // below it k ≥ -1020, where 2^k is a normal number built from its bits
const EXP_REDUCED: f64 = reinterpret<f64>(0x3fd62e4300000000);
const EXP_TINY: f64 = reinterpret<f64>(0x3e30000000000000); // 2^-28
const LN2_HI: f64 = reinterpret<f64>(0x3fe62e42fee00000);
const LN2_LO: f64 = reinterpret<f64>(0x3dea39ef35793c76);
const INV_LN2: f64 = reinterpret<f64>(0x3ff71547652b82fe);
const P1: f64 = reinterpret<f64>(0x3fc555555555553e);
const P2: f64 = reinterpret<f64>(0xbf66c16c16bebd93);
const P3: f64 = reinterpret<f64>(0x3f11566aaf25de2c);
const P4: f64 = reinterpret<f64>(0xbebbbd41c5d26bf1);
const P5: f64 = reinterpret<f64>(0x3e66376972bea4d0);

/** Writes index as the count-th i32 at `list`; the new count. */
function mark(list: usize, count: i32, index: i32): i32 {
  store<i32>(list + (<usize>count << 2), index);
  return count + 1;
}

/**
 * y[i] = σ(x[i]) for i < n. Entries this does not compute (|x| ≥ 707 or NaN, where e^-|x| is subnormal or
 * needs fdlibm's special cases, and the last of an odd count) are left to the caller: their indices are
 * written at `special` as i32s, and their number is returned.
 */
export function sigmoid(x: usize, y: usize, n: i32, special: usize): i32 {
  let count = 0;
  const one = f64x2.splat(1);
  const two = f64x2.splat(2);
  const zero = f64x2.splat(0);
  const bias = i64x2.splat(1023);
  for (let i = 0; i + 1 < n; i += 2) {
    const at = <usize>i << 3;
    const v = v128.load(x + at);
    const ax = f64x2.abs(v);
    const safe = i64x2.bitmask(f64x2.lt(ax, f64x2.splat(SIGMOID_SAFE)));
    if (safe !== 3) {
      if ((safe & 1) === 0) count = mark(special, count, i);
      if ((safe & 2) === 0) count = mark(special, count, i + 1);
    }
    const z = f64x2.neg(ax);
    const rounded = f64x2.convert_low_i32x4_s(
      i32x4.trunc_sat_f64x2_s_zero(f64x2.sub(f64x2.mul(f64x2.splat(INV_LN2), z), f64x2.splat(0.5))),
    );
    const k = v128.bitselect(zero, rounded, f64x2.lt(ax, f64x2.splat(EXP_REDUCED)));
    const hi = f64x2.sub(z, f64x2.mul(k, f64x2.splat(LN2_HI)));
    const lo = f64x2.mul(k, f64x2.splat(LN2_LO));
    const r = f64x2.sub(hi, lo);
    const t = f64x2.mul(r, r);
    let p = f64x2.add(f64x2.splat(P4), f64x2.mul(t, f64x2.splat(P5)));
    p = f64x2.add(f64x2.splat(P3), f64x2.mul(t, p));
    p = f64x2.add(f64x2.splat(P2), f64x2.mul(t, p));
    p = f64x2.add(f64x2.splat(P1), f64x2.mul(t, p));
    const c = f64x2.sub(r, f64x2.mul(t, p));
    const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(two, c));
    const e0 = f64x2.sub(one, f64x2.sub(f64x2.sub(lo, q), hi));
    const scale = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k)), bias), 52);
    const tiny = f64x2.lt(ax, f64x2.splat(EXP_TINY));
    const e = v128.bitselect(f64x2.add(one, z), f64x2.mul(e0, scale), tiny);
    const numerator = v128.bitselect(one, e, f64x2.ge(v, zero));
    v128.store(y + at, f64x2.div(numerator, f64x2.add(one, e)));
  }
  if (n & 1) count = mark(special, count, n - 1);
  return count;
}
