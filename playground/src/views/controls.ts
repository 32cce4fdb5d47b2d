// The settings form: filled from a configuration, and read back into one when the user changes
// something (made consistent with `reconcile`, e.g. U-Net follows the shapes dataset).
import { NORM_KINDS, type NormKind } from '@welford/layers';
import {
  DATASET_INFO,
  DATASETS,
  DEFAULT_LR,
  DEPTHS,
  GROUP_CHOICES,
  MODEL_LABELS,
  MODELS,
  NORM_LABELS,
  OPTIMIZER_LABELS,
  OPTIMIZERS,
  reconcile,
  modelFor,
  WIDTHS,
  type PlaygroundConfig,
} from '../config.ts';

/** Which numbers each norm averages (NORMALIZATION.md), shown under the choice. */
export const NORM_HINTS: Record<NormKind, string> = {
  batch: 'Per channel over (N, H, W): the batch statistics in training, running averages in evaluation.',
  group: 'Per sample and group of C/G channels over (C/G, H, W): nothing depends on the batch.',
  layer: 'Per sample over (C, H, W): group norm with one group.',
  instance: 'Per sample and channel over (H, W): group norm with G = C.',
  batchrenorm: 'Batch norm corrected by r = clip(σ_B/σ) and d = clip((μ_B − μ)/σ), so that training matches inference.',
  none: 'No normalization: the convolutions learn a bias, and nothing stops activations drifting with depth.',
};

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`playground: the page has no element #${id}`);
  return e as T;
}

function fill(select: HTMLSelectElement, options: readonly (readonly [string, string])[]): void {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
}

/** The form's fields, bound to a configuration. */
export class Controls {
  private readonly dataset = byId<HTMLSelectElement>('dataset');
  private readonly model = byId<HTMLSelectElement>('model');
  private readonly depth = byId<HTMLSelectElement>('depth');
  private readonly width = byId<HTMLSelectElement>('width');
  private readonly norm = byId<HTMLElement>('norm');
  private readonly groups = byId<HTMLSelectElement>('groups');
  private readonly optimizer = byId<HTMLSelectElement>('optimizer');
  private readonly lr = byId<HTMLInputElement>('lr');
  private readonly wd = byId<HTMLInputElement>('wd');
  private readonly batch = byId<HTMLInputElement>('batch');
  private readonly batchOut = byId<HTMLOutputElement>('batch-out');
  private readonly every = byId<HTMLInputElement>('every');
  private readonly evalEvery = byId<HTMLInputElement>('eval');
  private readonly test = byId<HTMLInputElement>('test');
  private readonly seed = byId<HTMLInputElement>('seed');
  private config: PlaygroundConfig;
  private cnnOnly = false;

  /** `onChange(next, previous)` runs after each edit with the new, consistent configuration. */
  constructor(
    config: PlaygroundConfig,
    available: ReadonlySet<string>,
    onChange: (next: PlaygroundConfig, previous: PlaygroundConfig) => void,
  ) {
    this.config = config;
    fill(this.dataset, DATASETS.map((d) => [d, `${DATASET_INFO[d].label}${available.has(d) ? '' : ' (not in this build)'}`]));
    for (const option of this.dataset.options) option.disabled = !available.has(option.value);
    fill(this.model, MODELS.map((m) => [m, MODEL_LABELS[m]]));
    fill(this.width, WIDTHS.map((w) => [String(w), String(w)]));
    fill(this.groups, GROUP_CHOICES.map((g) => [String(g), String(g)]));
    fill(this.optimizer, OPTIMIZERS.map((o) => [o, OPTIMIZER_LABELS[o]]));
    this.norm.replaceChildren(
      ...NORM_KINDS.map((k) => {
        const label = document.createElement('label');
        label.innerHTML = `<input type="radio" name="norm" value="${k}" /><span>${NORM_LABELS[k]}</span>`;
        return label;
      }),
    );
    this.show(config);
    byId<HTMLFormElement>('controls').addEventListener('change', (event) => {
      const previous = this.config;
      const next = this.read(event.target as HTMLElement);
      this.show(next);
      if (JSON.stringify(next) !== JSON.stringify(previous)) onChange(next, previous);
    });
    this.batch.addEventListener('input', () => (this.batchOut.value = this.batch.value));
  }

  /** Shows `config` in the form. */
  show(config: PlaygroundConfig): void {
    this.config = config;
    this.dataset.value = config.dataset;
    this.model.value = config.model;
    for (const option of this.model.options) option.disabled = modelFor(config.dataset, option.value as PlaygroundConfig['model']) !== option.value || (this.cnnOnly && option.value !== 'cnn');
    fill(this.depth, DEPTHS[config.model].map((d) => [String(d), config.model === 'cnn' ? '3 stages' : String(d)]));
    this.depth.value = String(config.depth);
    this.depth.disabled = config.model === 'cnn';
    this.width.value = String(config.width);
    for (const input of this.norm.querySelectorAll('input')) input.checked = input.value === config.norm;
    this.groups.value = String(config.groups);
    for (const option of this.groups.options) option.disabled = config.width % Number(option.value) !== 0;
    byId('groups-label').hidden = config.norm !== 'group';
    byId('norm-hint').textContent = NORM_HINTS[config.norm];
    this.optimizer.value = config.optimizer;
    this.lr.value = String(config.lr);
    this.wd.value = String(config.weightDecay);
    this.batch.value = String(config.batch);
    this.batchOut.value = String(config.batch);
    this.every.value = String(config.statsEvery);
    this.evalEvery.value = String(config.evalEvery);
    this.test.value = String(config.testSamples);
    this.seed.value = String(config.seed);
  }

  /** On the CPU backend only the small CNN trains (and so no segmentation dataset). */
  restrictToCnn(): void {
    this.cnnOnly = true;
    for (const option of this.dataset.options) if (DATASET_INFO[option.value as PlaygroundConfig['dataset']].task === 'segmentation') option.disabled = true;
    this.show(this.config);
  }

  /** The configuration the form shows, after an edit of `changed`; a value out of range keeps the previous one. */
  private read(changed: HTMLElement): PlaygroundConfig {
    const c = { ...this.config };
    const num = (input: HTMLInputElement, min: number, max: number, integer: boolean, fallback: number): number => {
      const v = Number(input.value);
      const ok = input.value.trim() !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
      return ok ? v : fallback;
    };
    c.dataset = this.dataset.value as PlaygroundConfig['dataset'];
    c.model = this.model.value as PlaygroundConfig['model'];
    if (changed === this.dataset) c.model = modelFor(c.dataset, c.model);
    if (changed === this.model || changed === this.dataset) c.depth = DEPTHS[c.model][0];
    else c.depth = Number(this.depth.value);
    c.width = Number(this.width.value);
    c.norm = (this.norm.querySelector<HTMLInputElement>('input:checked')?.value ?? c.norm) as NormKind;
    c.groups = Number(this.groups.value);
    c.optimizer = this.optimizer.value as PlaygroundConfig['optimizer'];
    c.lr = changed === this.optimizer ? DEFAULT_LR[c.optimizer] : num(this.lr, 1e-7, 10, false, c.lr);
    c.weightDecay = num(this.wd, 0, 1, false, c.weightDecay);
    c.batch = num(this.batch, 1, 256, true, c.batch);
    c.statsEvery = num(this.every, 1, 1000, true, c.statsEvery);
    c.evalEvery = num(this.evalEvery, 1, 100000, true, c.evalEvery);
    c.testSamples = num(this.test, 16, 2000, true, c.testSamples);
    c.seed = num(this.seed, 0, 2 ** 31 - 1, true, c.seed);
    return reconcile(c).config;
  }
}
