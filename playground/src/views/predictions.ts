// The grid of test images with the model's predictions: a label under each image (green when
// right, red when wrong), or for segmentation the predicted mask laid over the image beside the
// true one.
import type { Predictions } from '../training/preview.ts';

/** Mask colours by class id (0, background, is left transparent). */
const MASK_COLORS: [number, number, number][] = [
  [0, 0, 0],
  [59, 111, 216],
  [224, 99, 42],
  [47, 158, 110],
  [170, 80, 190],
];

export interface PreviewSample {
  image: Float32Array;
  label?: number;
  mask?: Uint8Array;
}

/** Draws a 1-channel image (values in [0, 1]) scaled up, with an optional mask over it. */
function drawImage(image: Float32Array, h: number, w: number, mask: Uint8Array | null, scale: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.style.width = `${w * scale}px`;
  canvas.style.height = `${h * scale}px`;
  const ctx = canvas.getContext('2d')!;
  const data = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, image[i])));
    let [r, g, b] = [v, v, v];
    const k = mask ? mask[i] : 0;
    if (k > 0) {
      const [cr, cg, cb] = MASK_COLORS[k % MASK_COLORS.length];
      // Half the colour over the image, so the shape stays visible under its mask.
      [r, g, b] = [(r + cr) / 2, (g + cg) / 2, (b + cb) / 2];
    }
    data.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

/** Fills `root` with the grid; `shape` is the images' [C, H, W]. */
export function renderPredictions(root: HTMLElement, samples: readonly PreviewSample[], shape: readonly number[], classes: readonly string[], p: Predictions): void {
  const [, h, w] = shape;
  const cells = samples.map((s, i) => {
    const cell = document.createElement('figure');
    cell.className = 'prediction';
    if (p.kind === 'labels' && p.step === 0) {
      // Before the first step the model is untrained, and its guesses (one class for every image)
      // say nothing: each image shows its true label until training gives the model something to say.
      cell.classList.add('truth');
      cell.append(drawImage(s.image, h, w, null, 3));
      const caption = document.createElement('figcaption');
      caption.textContent = String(classes[s.label ?? -1] ?? s.label ?? '');
      caption.title = 'the true label; the model’s guess shows once training starts';
      cell.append(caption);
    } else if (p.kind === 'labels') {
      const predicted = p.predicted[i];
      const right = predicted === s.label;
      cell.classList.add(right ? 'right' : 'wrong');
      cell.append(drawImage(s.image, h, w, null, 3));
      const caption = document.createElement('figcaption');
      caption.textContent = `${classes[predicted] ?? predicted} · ${(100 * p.confidence[i]).toFixed(0)}%`;
      caption.title = `true: ${classes[s.label ?? -1] ?? s.label}`;
      cell.append(caption);
    } else {
      const predicted = p.masks[i];
      const truth = s.mask ?? null;
      let agree = 0;
      if (truth) for (let j = 0; j < predicted.length; j++) agree += predicted[j] === truth[j] ? 1 : 0;
      cell.append(drawImage(s.image, h, w, predicted, 2), drawImage(s.image, h, w, truth, 2));
      const caption = document.createElement('figcaption');
      caption.textContent = truth ? `${((100 * agree) / predicted.length).toFixed(0)}% of pixels` : '';
      caption.title = 'top: predicted mask, bottom: true mask';
      cell.append(caption);
    }
    return cell;
  });
  root.replaceChildren(...cells);
  root.dataset.step = String(p.step);
}

/** The legend of the mask colours (class names by id). */
export function maskLegend(classes: readonly string[]): string {
  return classes
    .map((name, k) => (k === 0 ? `${name}: image` : `<span class="swatch" style="background: rgb(${MASK_COLORS[k % MASK_COLORS.length].join(',')})"></span>${name}`))
    .join(' · ');
}
