// When the loss goes NaN: which layer's statistics went non-finite first. The probes' records
// list, per read step, the layers with a non-finite statistic in forward order; the earliest
// such record names where it started. Without one (no probes, or no read step caught it), one
// more forward pass with probes on every step looks at the model as it is now. Browser-safe.
import { noGrad, tidy, type Tensor } from '@welford/core';
import type { Module } from '@welford/layers';
import { attachProbes, type Probes, type StatsRecord, type StatsSink } from '@welford/stats';

/**
 * A sink that keeps the first record with a non-finite layer statistic, and the first with a
 * non-finite parameter norm (a norm can overflow while the weights are still finite, so the
 * layers are the better witness).
 */
export class NonFiniteWatch implements StatsSink {
  firstLayer: StatsRecord | null = null;
  firstParam: StatsRecord | null = null;

  write(record: StatsRecord): void {
    if (this.firstLayer === null && record.nonFinite.length > 0) this.firstLayer = record;
    if (this.firstParam === null && record.nonFiniteParams.length > 0) this.firstParam = record;
  }

  /** What the records seen say went non-finite first, or null when nothing did. */
  describe(options: { step?: boolean } = {}): string | null {
    return describeNonFinite(this.firstLayer ?? this.firstParam, options);
  }
}

/** "bn1 (BatchNorm2d)": a probed layer with its type. */
function layerName(record: StatsRecord, name: string): string {
  const type = record.layers[name]?.type;
  return type ? `${name} (${type})` : name;
}

/** What a record says went non-finite first, or null when nothing did; `step` names the record's step. */
export function describeNonFinite(record: StatsRecord | null, { step = true }: { step?: boolean } = {}): string | null {
  if (!record) return null;
  const [first, ...rest] = record.nonFinite;
  const notes = [step ? `step ${record.step}` : '', rest.length > 0 ? `then ${rest.slice(0, 4).join(', ')}${rest.length > 4 ? ', ...' : ''}` : ''].filter((s) => s !== '');
  const where = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  if (first !== undefined) return `${layerName(record, first)} is the first layer whose statistics went non-finite${where}`;
  const [param] = record.nonFiniteParams;
  if (param !== undefined) return `no layer's statistics went non-finite, but the gradient or weight norm of ${param} did${step ? ` (step ${record.step})` : ''}`;
  return null;
}

/**
 * Names the first layer whose statistics went non-finite: from `watch` (what the run's probes
 * saw), else from one training-mode forward of `x` with probes reading every layer. `probes`
 * (the run's, or null) is flushed and detached first. Never throws: a diagnosis must not hide
 * the error it explains.
 */
export async function diagnoseNonFinite(model: Module<[Tensor], Tensor>, probes: Probes | null, watch: NonFiniteWatch, input: () => Tensor | null): Promise<string> {
  try {
    if (probes) {
      await probes.flush().catch(() => undefined);
      probes.detach();
    }
    const seen = watch.describe();
    if (seen) return seen;
    const x = input();
    if (!x) return 'no statistics were recorded to say which layer went non-finite first';
    const fresh = new NonFiniteWatch();
    const once = attachProbes(model, { every: 1, params: false, sinks: [fresh] });
    try {
      model.train();
      noGrad(() => tidy(() => model.call(x)));
      once.step();
      await once.flush();
    } finally {
      once.detach();
      x.dispose();
    }
    const now = fresh.describe({ step: false });
    return now ? `one forward pass after it: ${now}` : 'one forward pass after it finds every layer statistic finite (the loss itself overflowed)';
  } catch (e) {
    return `(the statistics could not be read: ${e instanceof Error ? e.message : String(e)})`;
  }
}
