import { gather, reshape, shapeToString, type Tensor, broadcastTo } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { standardNormal } from '../init.ts';
import { Module } from '../module/module.ts';

/**
 * A lookup table (`torch.nn.Embedding`): row i of `weight` [numEmbeddings, embeddingDim] for
 * index i. Indices are a float32 tensor of integers of any shape; the output has shape
 * [...indices.shape, embeddingDim]. Initialised N(0, 1) like PyTorch.
 */
export class Embedding extends Module {
  static override readonly typeName = 'Embedding';
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.weight = this.registerParameter('weight', standardNormal([numEmbeddings, embeddingDim]));
  }

  forward(indices: Tensor): Tensor {
    if (indices.rank > 6) throw new Error(`Embedding: expected indices of rank at most 6, got shape ${shapeToString(indices.shape)}`);
    const n = indices.size;
    // gather along dim 0 with the index repeated across the embedding dimension.
    const index = broadcastTo(reshape(indices, [n, 1]), [n, this.embeddingDim]);
    const rows = gather(this.weight, 0, index);
    return reshape(rows, [...indices.shape, this.embeddingDim]);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}
