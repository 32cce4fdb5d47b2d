// Checkpoints to and from the user's disk: a download of the safetensors bytes, and the reason
// an uploaded file was refused, with the configuration it was saved from when it says so.
import { parseSafetensors } from '@welford/layers';
import { architectureKey, describeArchitecture, parseQuery, type PlaygroundConfig } from './config.ts';

/** Offers `bytes` as a file download. */
export function download(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "welford-cnn-batch-step120.safetensors". */
export function checkpointName(c: PlaygroundConfig, step: number): string {
  return `welford-${c.model}${c.model === 'cnn' ? '' : c.depth}-${c.norm}-${c.dataset}-step${step}.safetensors`;
}

/** The playground configuration stored in a checkpoint's metadata, if it has one and parses. */
export function savedConfig(bytes: Uint8Array): PlaygroundConfig | null {
  try {
    const query = parseSafetensors(bytes).metadata.playground;
    return typeof query === 'string' ? parseQuery(query).config : null;
  } catch {
    return null;
  }
}

/**
 * Why a checkpoint was refused, for the page: the loader's own message (missing and unexpected
 * keys, a size mismatch, a corrupt header), plus what the file was saved from when that differs.
 */
export function refusal(error: unknown, bytes: Uint8Array, current: PlaygroundConfig): string {
  const reason = error instanceof Error ? error.message : String(error);
  const saved = savedConfig(bytes);
  const from = saved && architectureKey(saved) !== architectureKey(current) ? ` The file was saved from ${describeArchitecture(saved)}; the running model is ${describeArchitecture(current)}.` : '';
  return `${reason}${from}`;
}
