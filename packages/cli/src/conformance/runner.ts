// Runs conformance cases on a backend and compares what welford computes with what they expect.
import { fromArray, setBackend, tidy, type Backend, type Tensor } from '@welford/core';
import type { CaseFile, CaseTensor, ConformanceCase, Tolerance } from './case_file.ts';
import { conformanceOps } from './ops.ts';

/** One compared tensor: `output`, `grad.<input>`, `running_mean` or `running_var`. */
export interface Comparison {
  readonly name: string;
  readonly passed: boolean;
  /** The largest |got − want|; NaN when a value is NaN where a number was wanted. */
  readonly maxAbsError: number;
  /** The element furthest outside the tolerance (the largest error when all are within it). */
  readonly worst?: { readonly index: readonly number[]; readonly got: number; readonly want: number };
  /** Why nothing could be compared (a shape that differs, a gradient that never arrived). */
  readonly problem?: string;
}

export interface CaseResult {
  readonly source: string;
  readonly id: string;
  readonly op: string;
  readonly passed: boolean;
  readonly comparisons: readonly Comparison[];
  /** The error that stopped the case (an op that is missing or rejects its input). */
  readonly error?: string;
  readonly seconds: number;
}

export interface RunOptions {
  /** Called as each case finishes, in order. */
  readonly onResult?: (result: CaseResult) => void;
}

/** Row-major multi-index of a flat position. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** Compares values elementwise: |got − want| <= atol + rtol · |want|. */
export function compareValues(name: string, got: ArrayLike<number>, gotShape: readonly number[], want: CaseTensor, tol: Tolerance): Comparison {
  if (gotShape.join() !== want.shape.join()) {
    return { name, passed: false, maxAbsError: NaN, problem: `shape [${gotShape.join(', ')}], expected [${want.shape.join(', ')}]` };
  }
  let maxAbsError = 0;
  let sawNaN = false;
  let passed = true;
  let worstAt = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < want.data.length; i++) {
    const g = got[i];
    const w = want.data[i];
    const error = Math.abs(g - w);
    const allowed = tol.atol + tol.rtol * Math.abs(w);
    // NaN fails: comparisons with NaN are false.
    const ok = error <= allowed;
    if (!ok) passed = false;
    if (Number.isNaN(error)) sawNaN = true;
    else if (error > maxAbsError) maxAbsError = error;
    const excess = Number.isNaN(error) ? Infinity : error - allowed;
    if (excess > worstExcess) {
      worstExcess = excess;
      worstAt = i;
    }
  }
  if (sawNaN) maxAbsError = NaN;
  if (worstAt < 0) return { name, passed, maxAbsError };
  return { name, passed, maxAbsError, worst: { index: unravel(worstAt, want.shape), got: got[worstAt], want: want.data[worstAt] } };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Runs one case on `backend` (made the current backend): its inputs become tensors, the op runs,
 * backward runs from grad_output when gradients are expected, and every expectation is compared;
 * everything the case made is freed. Never throws: an error becomes a failed result naming it.
 */
export async function runCase(c: ConformanceCase, backend: Backend, source = ''): Promise<CaseResult> {
  const started = performance.now();
  const adapter = conformanceOps[c.op];
  const grads = Object.keys(c.expect).filter((k) => k.startsWith('grad.')).map((k) => k.slice('grad.'.length));
  const runBackward = c.gradOutput !== undefined && grads.length > 0;
  const made: Tensor[] = [];
  const finish = (fields: { comparisons: Comparison[]; error?: string }): CaseResult => ({
    source,
    id: c.id,
    op: c.op,
    passed: fields.error === undefined && fields.comparisons.every((x) => x.passed),
    ...fields,
    seconds: (performance.now() - started) / 1000,
  });
  try {
    setBackend(backend);
    const tensors: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(c.inputs)) {
      tensors[name] = fromArray(t.data, t.shape, { backend, requiresGrad: runBackward && grads.includes(name) });
      made.push(tensors[name]);
    }
    if (!adapter) throw new Error(`unknown op "${c.op}"`);
    const output = tidy(() => {
      const out = adapter.run({ tensors, attrs: c.attrs, hostInputs: c.inputs });
      if (runBackward) {
        const g = c.gradOutput!;
        if (g.shape.join() !== out.shape.join()) {
          throw new Error(`grad_output has shape [${g.shape.join(', ')}] but ${c.op} returned shape [${out.shape.join(', ')}]`);
        }
        out.backward(fromArray(g.data, g.shape, { backend }));
      }
      return out;
    });
    made.push(output);
    const comparisons: Comparison[] = [];
    for (const [name, want] of Object.entries(c.expect)) {
      let got: Tensor | null;
      if (name === 'output') got = output;
      else if (name.startsWith('grad.')) got = tensors[name.slice('grad.'.length)].grad;
      else got = tensors[name]; // updated in place: its value after the call
      if (!got) {
        comparisons.push({ name, passed: false, maxAbsError: NaN, problem: `no gradient reached input "${name.slice('grad.'.length)}"` });
        continue;
      }
      comparisons.push(compareValues(name, await got.toArray(), got.shape, want, c.tol));
    }
    return finish({ comparisons });
  } catch (e) {
    return finish({ comparisons: [], error: message(e) });
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Runs every case of a file in order on `backend`. */
export async function runCaseFile(file: CaseFile, backend: Backend, options: RunOptions = {}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of file.cases) {
    const result = await runCase(c, backend, file.source);
    options.onResult?.(result);
    results.push(result);
  }
  return results;
}
