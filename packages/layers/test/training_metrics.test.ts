import { beforeAll, describe, expect, it } from 'vitest';
import { fromArray, Random, tidy, type Tensor, type WebGpuBackend } from '@welford/core';
import { Accuracy, argmax, Mean, MeanIoU, pixelCrossEntropy } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await useGpu();
});

/** Counts the backend's readbacks while `fn` runs. */
async function countReads<T>(fn: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const read = gpu.read.bind(gpu);
  let reads = 0;
  gpu.read = (s) => {
    reads++;
    return read(s);
  };
  try {
    return { value: await fn(), reads };
  } finally {
    gpu.read = read;
  }
}

/** Seeded values rounded to a coarse grid, so that ties happen. */
function coarse(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => Math.round(rng.uniform() * 4) / 2);
}

/** Reads a tensor's values and disposes it. */
async function valuesOf(t: Tensor): Promise<number[]> {
  const values = [...(await t.toArray())];
  t.dispose();
  return values;
}

/** Host argmax over axis 1 of [N, K, S] (first index among ties). */
function hostArgmax(x: Float32Array, n: number, k: number, s: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < s; j++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (x[(i * k + c) * s + j] > x[(i * k + best) * s + j]) best = c;
      out.push(best);
    }
  }
  return out;
}

describe('argmax', () => {
  it('matches the host on [N, K, H, W] with ties (first index wins), along any axis', async () => {
    const [n, k, h, w] = [2, 5, 3, 3];
    const data = coarse(n * k * h * w, 3);
    expect(await valuesOf(tidy(() => argmax(fromArray(data, [n, k, h, w]), 1)))).toEqual(hostArgmax(data, n, k, h * w));
    expect(await valuesOf(tidy(() => argmax(fromArray(data, [n * k * h, w]), -1)))).toEqual(hostArgmax(data, n * k * h, w, 1));
    expect(() => tidy(() => argmax(fromArray(data, [n * k * h, w]), 2))).toThrow(/argmax: axis 2 is out of range for a tensor of shape \[30, 3\]/);
  });
});

describe('Accuracy', () => {
  it('counts top-1 hits across batches on the device and reads back once', async () => {
    // argmax per row: [1, 3, 2] → 1; [0.5, 0.5, 0.1] → 0 (tie: first); [-1, -2, -0.5] → 2;
    // [2, 2, 2] → 0; [0, 1, 1] → 1. Targets 1, 1, 2, 0, 2: hits at rows 0, 2, 3 → 3 / 5.
    const logits = [1, 3, 2, 0.5, 0.5, 0.1, -1, -2, -0.5, 2, 2, 2, 0, 1, 1];
    const targets = [1, 1, 2, 0, 2];
    const acc = new Accuracy();
    const { value, reads } = await countReads(async () => {
      tidy(() => acc.update(fromArray(logits.slice(0, 9), [3, 3]), fromArray(targets.slice(0, 3), [3])));
      tidy(() => acc.update(fromArray(logits.slice(9), [2, 3]), fromArray(targets.slice(3), [2])));
      return acc.compute();
    });
    expect(reads).toBe(1);
    expect(acc.count).toBe(5);
    expect(value).toBeCloseTo(0.6, 7);
    acc.reset();
    expect(await acc.compute()).toBeNaN();
    acc.dispose();
  });

  it('names the shapes when targets do not fit the logits', () => {
    const acc = new Accuracy();
    tidy(() => {
      expect(() => acc.update(fromArray(new Float32Array(12), [4, 3]), fromArray(new Float32Array(5), [5]))).toThrow(/Accuracy: expected targets of shape \[4\] for logits of shape \[4, 3\], got \[5\]/);
      expect(() => acc.update(fromArray(new Float32Array(3), [3]), fromArray(new Float32Array(3), [3]))).toThrow(/Accuracy: expected logits of shape \[N, K, \.\.\.\], got \[3\]/);
    });
  });
});

/** Logits [B, K, H, W] whose argmax per pixel is `pred` (values distinct per class). */
function logitsFor(pred: number[], b: number, k: number, hw: number): Float32Array {
  const out = new Float32Array(b * k * hw);
  for (let i = 0; i < b; i++) for (let c = 0; c < k; c++) for (let p = 0; p < hw; p++) out[(i * k + c) * hw + p] = pred[i * hw + p] === c ? 1 + 0.1 * c : -0.3 * c;
  return out;
}

/** Host mean IoU: per class TP / (TP + FP + FN), classes absent from both left out. */
function hostIoU(pred: number[], mask: number[], k: number): { perClass: (number | null)[]; meanIoU: number; pixelAccuracy: number } {
  const perClass: (number | null)[] = [];
  for (let c = 0; c < k; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    pred.forEach((p, i) => {
      if (p === c && mask[i] === c) tp++;
      else if (p === c) fp++;
      else if (mask[i] === c) fn++;
    });
    perClass.push(tp + fp + fn === 0 ? null : tp / (tp + fp + fn));
  }
  const present = perClass.filter((v): v is number => v !== null);
  return { perClass, meanIoU: present.reduce((a, b) => a + b, 0) / present.length, pixelAccuracy: pred.filter((p, i) => p === mask[i]).length / pred.length };
}

describe('MeanIoU', () => {
  it('matches values worked out by hand, class 3 absent from both', async () => {
    // Predictions and masks, [2, 2, 3] each:
    const pred = [0, 1, 1, 2, 0, 0, /* b1 */ 1, 1, 2, 2, 2, 0];
    const mask = [0, 1, 2, 2, 0, 1, /* b1 */ 1, 0, 2, 2, 2, 0];
    // class 0: TP 3, predicted 4, target 4 → 3 / (4 + 4 − 3) = 0.6
    // class 1: TP 2, predicted 4, target 3 → 2 / 5 = 0.4
    // class 2: TP 4, predicted 4, target 5 → 4 / 5 = 0.8
    // class 3: neither predicted nor in the mask → null; mean (0.6 + 0.4 + 0.8) / 3 = 0.6
    // pixel accuracy: 9 of 12 = 0.75
    const iou = new MeanIoU(4);
    const { value, reads } = await countReads(async () => {
      // One image per update: the counts add up across batches.
      for (let b = 0; b < 2; b++) {
        tidy(() => iou.update(fromArray(logitsFor(pred.slice(6 * b, 6 * b + 6), 1, 4, 6), [1, 4, 2, 3]), fromArray(mask.slice(6 * b, 6 * b + 6), [1, 2, 3])));
      }
      return iou.compute();
    });
    expect(reads).toBe(1);
    expect(value.perClass.length).toBe(4);
    expectClose(value.perClass.slice(0, 3) as number[], [0.6, 0.4, 0.8], 1e-6, 0, 'IoU per class');
    expect(value.perClass[3]).toBeNull();
    expect(value.meanIoU).toBeCloseTo(0.6, 6);
    expect(value.pixelAccuracy).toBeCloseTo(0.75, 6);
    iou.dispose();
  });

  it('matches a host computation on random logits and masks of odd sizes', async () => {
    const [b, k, h, w] = [3, 5, 3, 5];
    const rng = new Random(11);
    const logits = Float32Array.from({ length: b * k * h * w }, () => rng.normal());
    const mask = Array.from({ length: b * h * w }, () => Math.floor(rng.uniform() * (k - 1))); // class 4 only predicted
    const iou = new MeanIoU();
    tidy(() => iou.update(fromArray(logits, [b, k, h, w]), fromArray(mask, [b, h, w])));
    expect(iou.numClasses).toBe(k);
    const got = await iou.compute();
    const want = hostIoU(hostArgmax(logits, b, k, h * w), mask, k);
    expect(got.perClass.map((v) => v === null)).toEqual(want.perClass.map((v) => v === null));
    expectClose(got.perClass.map((v) => v ?? 0), want.perClass.map((v) => v ?? 0), 1e-6, 0, 'IoU per class');
    expect(got.meanIoU).toBeCloseTo(want.meanIoU, 6);
    expect(got.pixelAccuracy).toBeCloseTo(want.pixelAccuracy, 6);
    expect(() => tidy(() => iou.update(fromArray(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]), fromArray(new Float32Array(8), [2, 2, 2])))).toThrow(/MeanIoU: expected logits with 5 classes on axis 1, got shape \[2, 3, 2, 2\]/);
    iou.dispose();
  });
});

describe('Mean and pixelCrossEntropy', () => {
  it('Mean weights values on the device', async () => {
    const m = new Mean();
    tidy(() => {
      m.update(fromArray([2], []), 3);
      m.update(fromArray([5], [1]), 1);
    });
    // The accumulator outlives the scope the updates ran in.
    expect(m.weight).toBe(4);
    expect(await m.compute()).toBeCloseTo((2 * 3 + 5) / 4, 6);
    expect(() => tidy(() => m.update(fromArray([1, 2], [2])))).toThrow(/Mean: expected a one-element value, got shape \[2\]/);
    m.dispose();
  });

  it('pixelCrossEntropy is the mean over pixels of logsumexp − the target logit', async () => {
    const [b, k, h, w] = [2, 3, 2, 3];
    const rng = new Random(5);
    const logits = Float32Array.from({ length: b * k * h * w }, () => rng.normal() * 2);
    const mask = Array.from({ length: b * h * w }, () => Math.floor(rng.uniform() * k));
    let want = 0;
    for (let i = 0; i < b; i++) {
      for (let p = 0; p < h * w; p++) {
        const row = Array.from({ length: k }, (_, c) => logits[(i * k + c) * h * w + p]);
        const m = Math.max(...row);
        want += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[mask[i * h * w + p]];
      }
    }
    want /= b * h * w;
    const got = await valuesOf(tidy(() => pixelCrossEntropy(fromArray(logits, [b, k, h, w]), fromArray(mask, [b, h, w]))));
    expectClose(got, [want], 1e-5, 1e-5, 'loss');
    expect(() => tidy(() => pixelCrossEntropy(fromArray(logits, [b, k, h, w]), fromArray(mask, [b, h * w])))).toThrow(/pixelCrossEntropy: expected logits \[N, K, \.\.\.\] and targets of shape \[2, 2, 3\], got logits \[2, 3, 2, 3\] and targets \[2, 6\]/);
  });
});
