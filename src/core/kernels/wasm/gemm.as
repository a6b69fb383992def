// AssemblyScript source of the WebAssembly SIMD (f64x2) float64 GEMM used by ../gemm.ts.
// Compiled by build.mjs beside it (npm run build:wasm, which npm run build, npm test and npm run dev run
// first) with AssemblyScript's compileString. The extension is .as, not .ts, so that tsc and Biome, which
// cover all of src/**/*.ts, leave this AssemblyScript (f64, v128, load<T>) alone.
//
// C (m×n, row-major, row stride ldc) += op(A)·op(B), where op(A) is m×k and op(B) is k×n:
//   transA = 0: A is stored m×k, entry (i, p) at a[i·lda + p];  transA = 1: A is stored k×m, (i, p) at a[p·lda + i]
//   transB = 0: B is stored k×n, entry (p, j) at b[p·ldb + j];  transB = 1: B is stored n×k, (p, j) at b[j·ldb + p]
// Strides are in elements, pointers in bytes. The caller zeroes C first (or passes a C to accumulate into).
//
// The loops are BLIS's: B is packed by KC×NC blocks into NR-column panels, A by MC×KC blocks into
// MR-row panels, and an MR×NR micro-kernel keeps its tile of C in registers. The tile is loaded from C
// and stored back around each KC block, and every lane computes c = c + a·b (WebAssembly has no fused
// multiply-add outside relaxed SIMD), so each entry of C is summed in the order k = 0, 1, …, K-1 from
// the value C held: bit for bit what the reference i-k-j kernel computes.

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

function packA(a: usize, lda: i32, transA: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR; r++) {
        let v: f64 = 0;
        if (r < rows) {
          const i = i0 + ir + r;
          const q = p0 + p;
          v = transA ? load<f64>(a + ((<usize>q * lda + i) << 3)) : load<f64>(a + ((<usize>i * lda + q) << 3));
        }
        store<f64>(dst, v);
        dst += 8;
      }
    }
  }
}

function packB(b: usize, ldb: i32, transB: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    if (!transB && cols === NR) {
      let src = b + ((<usize>p0 * ldb + j0 + jr) << 3);
      const step = <usize>ldb << 3;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let c = 0; c < NR; c++) {
        let v: f64 = 0;
        if (c < cols) {
          const j = j0 + jr + c;
          const q = p0 + p;
          v = transB ? load<f64>(b + ((<usize>j * ldb + q) << 3)) : load<f64>(b + ((<usize>q * ldb + j) << 3));
        }
        store<f64>(dst, v);
        dst += 8;
      }
    }
  }
}

// 4×4 tile: 8 f64x2 accumulators, 2 B vectors and one broadcast A value live in registers.
function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize): void {
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  let x0 = v128.load(c);
  let y0 = v128.load(c, 16);
  let x1 = v128.load(c1);
  let y1 = v128.load(c1, 16);
  let x2 = v128.load(c2);
  let y2 = v128.load(c2, 16);
  let x3 = v128.load(c3);
  let y3 = v128.load(c3, 16);
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
              micro(kc, pai, pbj, cij, ldcBytes);
            } else {
              for (let r = 0; r < MR; r++) {
                for (let q = 0; q < NR; q++) {
                  const v: f64 = r < rows && q < cols ? load<f64>(cij + ((<usize>r * ldc + q) << 3)) : 0;
                  store<f64>(tile + (<usize>(r * NR + q) << 3), v);
                }
              }
              micro(kc, pai, pbj, tile, <usize>(NR * 8));
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
