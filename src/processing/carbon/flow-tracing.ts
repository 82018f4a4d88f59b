/**
 * Consumption-based carbon intensity by flow tracing (Tranberg et al., "Real-time carbon accounting method for
 * the European electricity markets", Energy Strategy Reviews 26, 2019, arXiv:1812.06679), solved exactly as one
 * linear system per slot.
 *
 * Each zone's consumption is a well-mixed pool of its own production and its imports; its exports carry the
 * pool's intensity. For every zone z of the system:
 *
 *   c_z · (P_z + Σ_y F_{y→z}) − Σ_{y in system} F_{y→z} · c_y = E_z + Σ_{y outside} F_{y→z} · c_y^ext
 *
 * with P_z its production (MW), E_z its production emissions (MW·gCO2eq/kWh) and F_{y→z} the net physical flow
 * from y to z. The matrix is diagonally dominant (each diagonal holds the row's off-diagonal sum plus P_z), so
 * Gaussian elimination with partial pivoting is stable; for the ~60 European zones one solve takes microseconds.
 */

export interface TracingZone {
  readonly zone: string;
  readonly production: number;
  /** Production emissions for each right-hand side (e.g. lifecycle and direct). */
  readonly emissions: readonly number[];
}

export interface TracingFlow {
  readonly from: string;
  readonly to: string;
  /** MW, ≥ 0. */
  readonly mw: number;
}

export interface TracingInput {
  readonly zones: readonly TracingZone[];
  /** Gross flows; opposite flows of a pair are netted. Flows touching zones outside `zones` are imports/exports. */
  readonly flows: readonly TracingFlow[];
  /** Intensity of imports from zones outside the system, per right-hand side. */
  readonly externalIntensity: (zone: string, rhs: number) => number;
  readonly rhsCount: number;
}

/** Consumption intensity per zone and right-hand side; `null` where a zone has neither production nor imports. */
export function traceFlows(input: TracingInput): Map<string, (number | null)[]> {
  const n = input.zones.length;
  const k = input.rhsCount;
  const index = new Map<string, number>();
  input.zones.forEach((z, i) => index.set(z.zone, i));
  // Net flows per ordered pair.
  const gross = new Map<string, number>();
  for (const f of input.flows) {
    if (!(f.mw > 0) || f.from === f.to) continue;
    const key = `${f.from}\u0000${f.to}`;
    gross.set(key, (gross.get(key) ?? 0) + f.mw);
  }
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * k);
  input.zones.forEach((z, i) => {
    a[i * n + i] = z.production;
    for (let r = 0; r < k; r++) b[i * k + r] = z.emissions[r] ?? 0;
  });
  for (const [key, mw] of gross) {
    const [from = '', to = ''] = key.split('\u0000');
    const net = mw - (gross.get(`${to}\u0000${from}`) ?? 0);
    if (net <= 0) continue;
    const j = index.get(to);
    if (j === undefined) continue; // export out of the system: carries the exporter's intensity, no equation
    const i = index.get(from);
    a[j * n + j] = (a[j * n + j] ?? 0) + net;
    if (i === undefined) {
      for (let r = 0; r < k; r++) b[j * k + r] = (b[j * k + r] ?? 0) + net * input.externalIntensity(from, r);
    } else a[j * n + i] = (a[j * n + i] ?? 0) - net;
  }
  const solution = solve(a, b, n, k);
  const out = new Map<string, (number | null)[]>();
  input.zones.forEach((z, i) => {
    out.set(
      z.zone,
      Array.from({ length: k }, (_, r) => {
        const x = solution[i * k + r];
        return x === undefined || !Number.isFinite(x) ? null : x;
      }),
    );
  });
  return out;
}

/**
 * Solves A·X = B in place (A n×n row-major, B n×k) by Gaussian elimination with partial pivoting. A zero pivot
 * (a zone with no production and no imports) leaves that unknown as NaN instead of failing the whole slot.
 */
export function solve(a: Float64Array, b: Float64Array, n: number, k: number): Float64Array {
  const singular = new Uint8Array(n);
  // Columns right of the pivot where the pivot row is non-zero: grid matrices are sparse (a zone has a handful of
  // borders), so updating only those keeps elimination far below n³ work.
  const nz = new Int32Array(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    let best = Math.abs(a[col * n + col] ?? 0);
    for (let row = col + 1; row < n; row++) {
      const v = Math.abs(a[row * n + col] ?? 0);
      if (v > best) {
        best = v;
        pivot = row;
      }
    }
    if (best < 1e-12) {
      singular[col] = 1;
      continue;
    }
    if (pivot !== col) {
      for (let c = 0; c < n; c++) swap(a, col * n + c, pivot * n + c);
      for (let r = 0; r < k; r++) swap(b, col * k + r, pivot * k + r);
    }
    const pivotRow = col * n;
    let count = 0;
    for (let c = col + 1; c < n; c++) if ((a[pivotRow + c] ?? 0) !== 0) nz[count++] = c;
    const diag = a[pivotRow + col] ?? 1;
    for (let row = col + 1; row < n; row++) {
      const rowStart = row * n;
      const factor = (a[rowStart + col] ?? 0) / diag;
      if (factor === 0) continue;
      a[rowStart + col] = 0;
      for (let j = 0; j < count; j++) {
        const c = nz[j] ?? 0;
        a[rowStart + c] = (a[rowStart + c] ?? 0) - factor * (a[pivotRow + c] ?? 0);
      }
      for (let r = 0; r < k; r++) b[row * k + r] = (b[row * k + r] ?? 0) - factor * (b[col * k + r] ?? 0);
    }
  }
  const x = new Float64Array(n * k);
  for (let row = n - 1; row >= 0; row--) {
    for (let r = 0; r < k; r++) {
      if (singular[row] === 1) {
        x[row * k + r] = Number.NaN;
        continue;
      }
      let sum = b[row * k + r] ?? 0;
      for (let c = row + 1; c < n; c++) {
        const coefficient = a[row * n + c] ?? 0;
        // 0 × NaN is NaN: an unsolvable zone must not spoil zones that do not depend on it.
        if (coefficient !== 0) sum -= coefficient * (x[c * k + r] ?? 0);
      }
      x[row * k + r] = sum / (a[row * n + row] ?? 1);
    }
  }
  return x;
}

function swap(array: Float64Array, i: number, j: number): void {
  const t = array[i] ?? 0;
  array[i] = array[j] ?? 0;
  array[j] = t;
}
