// "What am I looking at?": for every chart, a closed section under its caption that says in
// plain words what the chart shows and what to look for, with the exact terms after it as the
// secondary detail. Opened by the visitor; nothing is shown until then.

/** A chart's explanation: plain words first, the exact terms second. */
export interface Explanation {
  plain: string;
  exact: string;
}

/** By the id of the chart's element. */
export const EXPLANATIONS: Readonly<Record<string, Explanation>> = {
  'chart-loss': {
    plain:
      'How wrong the network still is: lower is better. Blue is measured on the images it learns from, orange on test images it never trains on. ' +
      'A network that guesses at random among 10 classes scores 2.30; when orange stays well above blue, the network memorizes rather than learns.',
    exact: 'Mean cross-entropy −log p(true class) over a batch; ln 10 ≈ 2.303 for a uniform guess. The training loss is read back every few steps; the test loss over the test subset at every evaluation, in evaluation mode.',
  },
  'chart-accuracy': {
    plain: 'The share of images the network labels right. 10 % is chance for 10 classes. Test accuracy is measured on images the network never trained on.',
    exact: 'Top-1 accuracy (for segmentation: the share of pixels labelled right, and the mean intersection over union of the classes). Test points come from evaluation mode, which uses the running statistics where the norm keeps them.',
  },
  'chart-act-mean': {
    plain:
      'Each line is one layer: the average of the numbers that reach its norm. The norm removes this average, so whatever it is, the next layer sees numbers centred on 0. ' +
      'Without a norm, nothing removes it, and it can drift as the weights change.',
    exact: 'For each norm layer, the mean over channels of its input’s per-channel batch mean, read on the GPU every "Stats every" steps (without norms: each ReLU’s output).',
  },
  'chart-act-var': {
    plain:
      'How spread out the numbers reaching each layer are (on a log scale). The norm divides this spread away. Without a norm, the spread can shrink or grow from layer to layer, and a deep network then learns slowly or blows up.',
    exact: 'For each norm layer, the mean over channels of its input’s per-channel batch variance (biased, as the norm uses it); log y axis.',
  },
  'chart-batch-mean': {
    plain:
      'One dot per channel of the chosen layer. Blue: what training normalizes with, measured on the current batch. Orange: the long-run averages that evaluation uses instead. ' +
      'Where the two disagree, the network sees different numbers at test time than it trained on.',
    exact: 'Per channel: the batch mean and variance of the layer’s input and, for batch norm, running_mean and running_var (exponential averages with momentum 0.1; the running variance is unbiased). Group, layer and instance norm keep no running statistics.',
  },
  'chart-hist': {
    plain:
      'How often each value comes out of the chosen layer. After a norm the values gather around 0 with a spread near 1 (then shifted and scaled by the learned β and γ); after a ReLU every negative value has become 0.',
    exact: 'A histogram of the layer’s output over the whole batch, counted on the GPU; its range is fixed by the read before it.',
  },
  'chart-grad': {
    plain:
      'How strongly each layer’s weights are being pushed at each step. Lines that fall towards 0 mean a layer has stopped learning; lines that shoot up mean training may blow up. With a norm, the layers stay within a narrow band of each other.',
    exact: 'The L2 norm ‖∇w‖₂ of each convolution’s and the linear head’s weight gradient, as backward left it, before the optimizer step; log y axis.',
  },
  'chart-dead': {
    plain:
      'A ReLU passes positive numbers and turns negative ones into 0. This is the share it turns off. About half is healthy; near 1 the layer has gone silent and its weights stop learning.',
    exact: 'Per ReLU module, the fraction of its outputs that are ≤ 0 on the batch.',
  },
  'chart-affine': {
    plain:
      'After normalizing, each layer may stretch (γ) and shift (β) its output again, learning how much spread and offset suits the next layer. They start at 1 and 0.',
    exact: 'The channel means of each norm layer’s weight γ (solid) and bias β (dashed): y = γ·(x − μ)/√(σ² + ε) + β.',
  },
  'chart-shift': {
    plain:
      'How much what each layer receives changed since the last look, as the layers before it learned. Large jumps mean the layer must keep adapting to a moving input; this is the "internal covariate shift" batch norm was first proposed against.',
    exact: 'At each norm layer’s input, between consecutive reads: per channel, the 2-Wasserstein distance between Gaussians with the two reads’ batch mean and standard deviation, √((μ − μ′)² + (σ − σ′)²), divided by the earlier σ′; averaged over channels.',
  },
  predictions: {
    plain: 'The first test images with the network’s best guess under each. Green is right, red wrong, and the percentage is how sure it is. Before training they show their true labels.',
    exact: 'The model in evaluation mode on the first 16 test images: the arg-max class and its softmax probability (for segmentation, the predicted mask above the true mask).',
  },
};

/** Adds the closed "What am I looking at?" section to the card of every chart that has one. */
export function addExplanations(root: ParentNode = document): void {
  for (const [id, text] of Object.entries(EXPLANATIONS)) {
    const card = root.querySelector(`#${id}`)?.closest('.card');
    if (!card || card.querySelector('details.explain')) continue;
    const details = document.createElement('details');
    details.className = 'explain';
    details.dataset.chart = id;
    const summary = document.createElement('summary');
    summary.textContent = 'What am I looking at?';
    const plain = document.createElement('p');
    plain.textContent = text.plain;
    const exact = document.createElement('p');
    exact.className = 'exact';
    exact.textContent = text.exact;
    details.append(summary, plain, exact);
    card.querySelector('.caption')?.after(details);
  }
}
