// What the training page and the Node side say to each other. The page streams its progress as
// console messages ("[welford] " + JSON, non-finite numbers as strings, as stats.jsonl writes
// them); `window.welfordTrain(request)` resolves with the outcome, encoded the same way (one
// string, so that no protocol drops what it cannot pass: WebDriver BiDi, Firefox's, hands an
// object met twice as a reference, which Puppeteer reads as undefined), and `window.welfordStop()`
// stops the run at the next step boundary (it then resolves with the weights so far). Browser-safe.
import type { TrainConfig } from '../train/config.ts';
import type { MetricsRecord } from '../train/step_log.ts';
import type { StepProgress, StoppedTraining, TrainingResult } from '../train/run_training.ts';
import { parseJsonText, toJsonText, type StatsRecord } from '@welford/stats';

/** The prefix of the page's console messages meant for the Node side. */
export const MESSAGE_PREFIX = '[welford] ';

/** A message from the page while it trains. */
export type PageMessage =
  | { type: 'step'; progress: StepProgress }
  | { type: 'metrics'; record: MetricsRecord }
  | { type: 'stats'; record: StatsRecord }
  | { type: 'log'; line: string };

/** What Node asks the page to do: the run, and where its packed datasets are (relative URLs). */
export interface TrainRequest {
  config: TrainConfig;
  trainUrl: string;
  testUrl: string;
}

/** How a failure is classified, so Node can report it as it would its own. */
export type FailureKind = 'non-finite' | 'run' | 'internal';

/** The page's answer: the result with the checkpoint in base64 (null: a run stopped before its first step), or the failure. */
export type TrainResponse =
  | { ok: true; result: Omit<TrainingResult, 'checkpoint'> | Omit<StoppedTraining, 'checkpoint'>; checkpointBase64: string | null }
  | { ok: false; kind: FailureKind; message: string; stack?: string };

/** A message as one console line. */
export function encodeMessage(message: PageMessage): string {
  return MESSAGE_PREFIX + toJsonText(message);
}

/** The message in a console line, or null for other console output. */
export function decodeMessage(text: string): PageMessage | null {
  if (!text.startsWith(MESSAGE_PREFIX)) return null;
  return parseJsonText(text.slice(MESSAGE_PREFIX.length)) as PageMessage;
}

/** The page's answer as the string `window.welfordTrain` resolves with. */
export function encodeResponse(response: TrainResponse): string {
  return toJsonText(response);
}

/** The page's answer from the string `window.welfordTrain` resolved with. */
export function decodeResponse(text: string): TrainResponse {
  return parseJsonText(text) as TrainResponse;
}

/** Base64 of bytes, in chunks (String.fromCharCode takes a bounded number of arguments). */
export function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
