// The captions that depend on the model: which norm its layers are, by name and kind, so that a
// group-norm model's captions speak of group norm and a model without norms of its ReLUs.
import { capitalize, nameRange, type LayerDescription } from './layer_names.ts';

/** What the captions need to know of the model. */
export interface CaptionModel {
  /** The probed norm layers, in forward order, and what the first of them is. */
  normLayers: readonly string[];
  norm: LayerDescription | null;
  /** The probed ReLU modules, in forward order. */
  reluLayers: readonly string[];
}

/** The captions by element id. */
export function modelCaptions(m: CaptionModel): Record<string, string> {
  const norms = m.norm && m.normLayers.length > 0 ? `${nameRange(m.normLayers)}, each ${/^[aeiou]/i.test(m.norm.words) ? 'an' : 'a'} ${m.norm.words}` : null;
  const relus = nameRange(m.reluLayers);
  const depth = 'Blue layers are shallow, orange deep.';
  return {
    'act-mean-caption': norms
      ? `Mean over channels of the batch mean of what each norm layer receives (${norms}). ${depth}`
      : `No norm layers: the mean over channels of what each ReLU (${relus}) passes to the next layer, which nothing normalizes. ${depth}`,
    'dead-caption': norms
      ? `Fraction of units each ReLU switched off on the batch, one series per ReLU module (${relus}; relu1 follows ${m.normLayers[0]}). With β = 0 and a normalized input, about half.`
      : `Fraction of units each ReLU (${relus}) switched off on the batch. Without a norm, nothing keeps about half of them on.`,
    'affine-caption': norms ? `Mean over channels of each norm layer's learned scale γ (solid) and shift β (dashed): ${norms}.` : 'Mean over channels of each norm layer\u2019s learned scale γ and shift β.',
    'shift-caption': norms
      ? `How far each norm layer's input distribution moved since the previous read, in units of its spread (${nameRange(m.normLayers)}).`
      : "How far each norm layer's input distribution moved since the previous read, in units of its spread.",
  };
}

/** What the per-channel charts of the focus layer show, by its kind; `hasNorms`: the model has norm layers. */
export function focusCaption(layer: LayerDescription, kind: 'running' | 'per-sample' | 'relu', hasNorms: boolean): string {
  const what = capitalize(layer.words);
  if (kind === 'running') {
    return `${what}: per channel, the statistics of the current batch (what training normalizes with${layer.tag === 'BRN' ? ', corrected toward the running averages by r and d' : ''}) and the running averages (what evaluation uses, updated with momentum 0.1). Where they disagree, evaluation normalizes differently from training.`;
  }
  if (kind === 'per-sample') {
    return `${what} keeps no running statistics: each sample is normalized with its own statistics in training and evaluation alike, so only the batch statistics of its input are shown.`;
  }
  // A ReLU module: after a norm in a model with norms (the norm's output is pre-ReLU), else after a conv.
  return hasNorms
    ? `${what} after a norm: the per-channel batch statistics of its output, the norm's output with its negatives set to 0; a ReLU keeps no running statistics.`
    : `${what} without a norm before it: the per-channel batch statistics of its output, which nothing normalizes; there are no running statistics.`;
}
