// TensorFlow.js's half of the training benchmarks: a tf.layers model, the same data and SGD with
// momentum as a Trainer. A step is `optimizer.minimize` of the mean softmax cross-entropy with
// batch norm in training mode (batch statistics, moving averages updated).
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import type { TfModel } from './tf_models.ts';
import type { Loss, Trainer } from './training.ts';

/** TF.js's current backend, which the page set to WebGPU. */
export function tfBackend(): WebGPUBackend {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the benchmark needs TF.js's webgpu backend, got '${tf.getBackend()}'`);
  return tf.backend() as WebGPUBackend;
}

/** Submits what TF.js has recorded (ending its open compute pass first, as its own readback does) and waits for the GPU. */
export async function tfSync(): Promise<void> {
  const b = tfBackend();
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
  await b.device.queue.onSubmittedWorkDone();
}

export class TfTrainer implements Trainer {
  private readonly x: tf.Tensor;
  private readonly oneHot: tf.Tensor;
  private readonly vars: tf.Variable[];
  private readonly opt = tf.train.momentum(0.05, 0.9);

  /** `input` is NHWC. */
  constructor(
    private readonly tfModel: TfModel,
    input: Float32Array,
    inputShape: [number, number, number, number],
    targets: Int32Array,
    classes: number,
  ) {
    this.x = tf.tensor(input, inputShape);
    this.oneHot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), classes), 'float32'));
    // LayerVariable.read() is the underlying tf.Variable.
    this.vars = tfModel.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  step(): Loss {
    const cost = this.opt.minimize(
      () => {
        const logits = this.tfModel.model.apply(this.x, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(this.oneHot, logits) as tf.Scalar;
      },
      true,
      this.vars,
    );
    if (!cost) throw new Error('TF.js minimize returned no loss');
    return { read: async () => (await cost.data())[0], dispose: () => cost.dispose() };
  }

  dispose(): void {
    this.opt.dispose();
    tf.dispose([this.x, this.oneHot]);
    this.tfModel.model.dispose();
  }
}
