// Residual blocks and the models built from them: ResNets, U-Net, a small CNN.
export type { NormChoice } from './norm_choice.ts';
export { ResidualBlock, type BlockOptions } from './residual_block.ts';
export { PreActBlock, PreActBottleneck } from './preact_block.ts';
export { BasicBlock, Bottleneck } from './postact_block.ts';
export { PreActResNet, PostActResNet, preActResNet, preActResNet18, postActResNet, type ResNetOptions, type ResNet18Options, type ResidualBlockKind } from './resnet.ts';
export { DoubleConv, UpBlock, UNet, uNet, type UNetOptions } from './unet.ts';
export { SmallCnn, smallCnn, smallCnnStages, type SmallCnnOptions } from './small_cnn.ts';
