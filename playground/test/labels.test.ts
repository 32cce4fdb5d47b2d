import { CpuBackend, setBackend } from '@welford/core';
import { BatchNorm2d, BatchRenorm2d, GroupNorm, InstanceNorm2d, ReLU } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { focusCaption, modelCaptions } from '../src/views/captions.ts';
import { describeModule, layerLabel, nameRange } from '../src/views/layer_names.ts';
import { plateauNote } from '../src/views/plateau.ts';

describe('layer names follow the module', () => {
  beforeAll(() => setBackend(new CpuBackend()));

  it('tags each norm by what it is, a one-group GroupNorm as the layer norm it is', () => {
    const cases: [Parameters<typeof describeModule>[0], string, RegExp][] = [
      [new BatchNorm2d(4), 'BN', /^batch norm \(BatchNorm2d\)$/],
      [new GroupNorm(2, 4), 'GN', /^group norm \(GroupNorm, 2 groups\)$/],
      [new GroupNorm(1, 4), 'LN', /^layer norm \(GroupNorm, 1 group\)$/],
      [new InstanceNorm2d(4, { affine: true }), 'IN', /^instance norm \(InstanceNorm2d\)$/],
      [new BatchRenorm2d(4), 'BRN', /^batch renorm \(BatchRenorm2d\)$/],
      [new ReLU(), '', /^ReLU$/],
    ];
    for (const [module, tag, words] of cases) {
      const d = describeModule(module);
      expect(d.tag).toBe(tag);
      expect(d.words).toMatch(words);
      expect(layerLabel('bn1', d)).toBe(tag ? `bn1 (${tag})` : 'bn1');
    }
    expect(nameRange(['bn1', 'bn2', 'bn3'])).toBe('bn1–bn3');
    expect(nameRange(['bn1'])).toBe('bn1');
  });

  it('writes captions that name the model’s norm, and the ReLUs without norms', () => {
    const layer = describeModule(new GroupNorm(1, 4));
    const captions = modelCaptions({ normLayers: ['bn1', 'bn2', 'bn3'], norm: layer, reluLayers: ['relu1', 'relu2', 'relu3'] });
    expect(captions['act-mean-caption']).toContain('bn1–bn3, each a layer norm (GroupNorm, 1 group)');
    expect(captions['dead-caption']).toContain('relu1 follows bn1');
    expect(modelCaptions({ normLayers: ['bn1'], norm: describeModule(new InstanceNorm2d(4)), reluLayers: ['relu1'] })['act-mean-caption']).toContain('each an instance norm');
    const none = modelCaptions({ normLayers: [], norm: null, reluLayers: ['relu1', 'relu2'] });
    expect(none['act-mean-caption']).toMatch(/^No norm layers: .*relu1–relu2/);
    expect(focusCaption(layer, 'per-sample', true)).toMatch(/^Layer norm \(GroupNorm, 1 group\) keeps no running statistics/);
    expect(focusCaption(describeModule(new BatchRenorm2d(4)), 'running', true)).toMatch(/^Batch renorm .*corrected toward the running averages by r and d/);
    expect(focusCaption(describeModule(new ReLU()), 'relu', false)).toMatch(/^ReLU without a norm before it/);
  });
});

describe('the plateau note', () => {
  const at = (step: number, loss: number, normLayers = 0) => ({ normLayers, segmentation: false, classes: 10, step, loss });

  it('explains a loss at ln(classes) in a model without norms, from step 10 on', () => {
    expect(plateauNote(at(20, 2.3), false)).toMatch(/ln 10/);
    expect(plateauNote(at(5, 2.3), false)).toBeNull();
    expect(plateauNote(at(20, 2.3, 3), false)).toBeNull();
    expect(plateauNote({ ...at(20, 2.3), segmentation: true }, false)).toBeNull();
    expect(plateauNote(at(20, 2.2), false)).toBeNull();
    expect(plateauNote(at(20, Number.NaN), true)).toBeNull();
  });

  it('stays while the readings scatter on the plateau, and goes once the loss falls from it', () => {
    expect(plateauNote(at(30, 2.2), true)).not.toBeNull();
    expect(plateauNote(at(30, 2.1), true)).toBeNull();
    expect(plateauNote(at(30, 2.4), true)).not.toBeNull();
    // Far above it the network does worse than guessing: that is no plateau.
    expect(plateauNote(at(30, 2.6), true)).toBeNull();
  });
});
