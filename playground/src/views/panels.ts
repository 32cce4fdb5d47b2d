// The statistics panels of one session: which series each chart draws, and where its data
// comes from (the History). Built again for every new model, since the layers differ.
import type uPlot from 'uplot';
import { Chart, depthColor, type SeriesSpec } from './chart.ts';
import type { History } from './history.ts';

const TRAIN = '#3b6fd8';
const TEST = '#e0632a';
const IOU = '#2f9e6e';

/** What the empty charts say (the statistics come with the first read of the probes, every "Stats every" steps). */
const WAITING = () => 'Appears once training starts.';
const NO_STEPS = () => 'No steps yet: press Train or Step.';

/** What the panels need to know of the model. */
export interface PanelLayout {
  segmentation: boolean;
  /** The probed norm layers, in forward order. */
  normLayers: readonly string[];
  /** The probed ReLU modules, in forward order: a norm's output is pre-ReLU, so the dead fraction comes from these. */
  reluLayers: readonly string[];
  /** Convolution and linear weights, in the model's order. */
  weights: readonly string[];
  /** The layer of the per-channel and histogram panels. */
  focus: string | null;
  /** How legends name a probed layer: its module name with what it is ('bn1 (GN)'). */
  label(name: string): string;
}

function el(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`playground: the page has no element #${id}`);
  return e;
}

function perLayer(names: readonly string[], label: (n: string) => string = (n) => n): SeriesSpec[] {
  return names.map((n, i) => ({ label: label(n), color: depthColor(i, names.length) }));
}

/** Per-channel statistics of the focus layer from the newest record: [channels, ...series]. */
function channelData(h: History, focus: string | null, what: 'mean' | 'var'): uPlot.AlignedData {
  const l = focus ? h.latest?.layers[focus] : undefined;
  const batch = l ? (l.input ?? l.output)[what] : [];
  const running = l?.running?.[what] ?? batch.map(() => null);
  return [batch.map((_, i) => i), batch, running];
}

/** The focus layer's histogram from the newest record: bin centres and counts. */
function histogramData(h: History, focus: string | null): uPlot.AlignedData {
  const rec = focus ? h.latest?.histograms[focus] : undefined;
  if (!rec || !rec.counts || rec.min === null || rec.max === null) return [[], []];
  const width = (rec.max - rec.min) / rec.bins;
  return [rec.counts.map((_, i) => rec.min! + (i + 0.5) * width), rec.counts];
}

/** Creates every chart of the page for `layout`, drawing from `h`. */
export function createPanels(h: History, layout: PanelLayout): Map<string, Chart> {
  const charts = new Map<string, Chart>();
  const add = (id: string, chart: (e: HTMLElement) => Chart) => {
    const e = el(id);
    e.replaceChildren();
    charts.set(id, chart(e));
  };
  const table = (t: { data(n: readonly string[]): uPlot.AlignedData; version: number }, names: readonly string[]) => ({
    data: () => t.data(names),
    version: () => t.version,
  });
  const accuracy = layout.segmentation ? ['train', 'test', 'test mIoU'] : ['train', 'test'];
  const noNorms = layout.normLayers.length === 0;
  // What each layer normalizes is a norm's input; without norms, what a ReLU gives the next conv.
  const activationLayers = noNorms ? layout.reluLayers : layout.normLayers;
  add('chart-loss', (e) => new Chart(e, { y: 'cross-entropy', empty: NO_STEPS, series: [{ label: 'train', color: TRAIN }, { label: 'test', color: TEST, points: true, width: 2 }], ...table(h.loss, ['train', 'test']) }));
  add('chart-accuracy', (e) =>
    new Chart(e, {
      y: layout.segmentation ? 'pixel accuracy / IoU' : 'accuracy',
      empty: NO_STEPS,
      yRange: [0, 1],
      series: [
        { label: 'train', color: TRAIN, points: true },
        { label: 'test', color: TEST, points: true, width: 2 },
        ...(layout.segmentation ? [{ label: 'test mIoU', color: IOU, points: true, width: 2 }] : []),
      ],
      ...table(h.accuracy, accuracy),
    }),
  );
  add('chart-act-mean', (e) => new Chart(e, { y: 'mean', empty: WAITING, series: perLayer(activationLayers, layout.label), ...table(h.activationMean, activationLayers) }));
  add('chart-act-var', (e) => new Chart(e, { y: 'variance', log: true, empty: WAITING, series: perLayer(activationLayers, layout.label), ...table(h.activationVar, activationLayers) }));
  // One series per ReLU module, named as in the model (relu1 follows bn1, ...), so each stage shows.
  const deadEmpty = () => (layout.reluLayers.length === 0 ? 'This model has no ReLU module to watch.' : WAITING());
  add('chart-dead', (e) => new Chart(e, { y: 'fraction ≤ 0', yRange: [0, 1], empty: deadEmpty, series: perLayer(layout.reluLayers, layout.label), ...table(h.dead, layout.reluLayers) }));
  add('chart-grad', (e) => new Chart(e, { y: '‖∇w‖₂', log: true, empty: WAITING, series: perLayer(layout.weights), ...table(h.gradNorm, layout.weights) }));
  const affineNames = layout.normLayers.flatMap((n) => [`${n} γ`, `${n} β`]);
  const affineSeries = layout.normLayers.flatMap((n, i) => {
    const color = depthColor(i, layout.normLayers.length);
    return [
      { label: `${layout.label(n)} γ`, color },
      { label: `${layout.label(n)} β`, color, dash: [4, 3] },
    ];
  });
  const affineEmpty = () => (noNorms ? 'No norm layers: nothing learns a scale γ or a shift β.' : WAITING());
  add('chart-affine', (e) => new Chart(e, { y: 'mean γ, β', empty: affineEmpty, series: affineSeries, ...table(h.affine, affineNames) }));
  const shiftEmpty = () =>
    noNorms ? 'No norm layers: the shift is measured at the input of each norm layer.' : h.latest ? 'The shift compares each read with the one before: it shows from the second read on.' : WAITING();
  add('chart-shift', (e) => new Chart(e, { y: 'shift (σ units)', empty: shiftEmpty, series: perLayer(layout.normLayers, layout.label), ...table(h.shift, layout.normLayers) }));
  const focusData = { version: () => h.recordVersion, empty: () => (layout.focus ? WAITING() : 'This model has no layer to watch.') };
  const channelSeries = (what: string): SeriesSpec[] => [
    { label: `batch ${what}`, color: TRAIN, points: true },
    { label: `running ${what}`, color: TEST, points: true, dash: [5, 3] },
  ];
  add('chart-batch-mean', (e) => new Chart(e, { x: 'channel', integerX: true, y: 'mean', series: channelSeries('mean'), data: () => channelData(h, layout.focus, 'mean'), ...focusData }));
  add('chart-batch-var', (e) => new Chart(e, { x: 'channel', integerX: true, y: 'variance', series: channelSeries('variance'), data: () => channelData(h, layout.focus, 'var'), ...focusData }));
  add('chart-hist', (e) =>
    new Chart(e, {
      x: 'activation',
      y: 'count',
      bars: true,
      // The first read of a layer finds the range of its values; the counts come with the reads after it.
      empty: () => (h.latest ? 'Appears with the next read of the statistics.' : WAITING()),
      series: [{ label: 'count', color: '#3b6fd8', fill: 'rgba(59, 111, 216, 0.55)' }],
      data: () => histogramData(h, layout.focus),
      version: focusData.version,
    }),
  );
  return charts;
}
