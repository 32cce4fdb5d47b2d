export { compose, type Transform } from './transform.ts';
export { randomCrop, randomHorizontalFlip, type RandomCropOptions } from './crop_flip.ts';
export { normalize } from './normalize.ts';
export { intensityShift, intensityShifted, shiftIntensity, type IntensityShiftOptions } from './intensity_shift.ts';
