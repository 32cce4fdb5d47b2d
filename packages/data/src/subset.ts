import { checkIndex } from './checks.ts';
import type { ImageDataset, Sample } from './types.ts';

/** torch.utils.data.Subset: the samples of `dataset` at `indices`, in that order. */
export function subset<S extends Sample>(dataset: ImageDataset<S>, indices: readonly number[]): ImageDataset<S> {
  for (const i of indices) checkIndex('subset', i, dataset.length);
  const chosen = [...indices];
  return {
    length: chosen.length,
    shape: dataset.shape,
    classes: dataset.classes,
    get: (index: number): S => {
      checkIndex('subset', index, chosen.length);
      return dataset.get(chosen[index]);
    },
  };
}
