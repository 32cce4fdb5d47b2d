// Checkpoints: the safetensors format, and saving/loading a module's state in PyTorch's names.
export {
  parseSafetensors,
  serializeSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensor,
  type SafetensorsFile,
  type SafetensorsEntry,
  type ParseSafetensorsOptions,
} from './safetensors.ts';
export { saveSafetensors, loadSafetensors, type SaveSafetensorsOptions, type LoadSafetensorsOptions } from './checkpoint.ts';
export { toPyTorchName } from './names.ts';
