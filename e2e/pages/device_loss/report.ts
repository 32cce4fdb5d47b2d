/** Where the page destroys the device: in `onStep` of this optimizer step. */
export const LOSS_AT_STEP = 5;
/** Batches per epoch; the checkpoint is taken when the first epoch ends, before the loss. */
export const BATCHES_PER_EPOCH = 4;
/** Steps trained on the new device from the checkpoint. */
export const STEPS_AFTER = 6;

/** An error as the page saw it. */
export interface SeenError {
  name: string;
  message: string;
  /** `instanceof DeviceLostError` (core's class). */
  deviceLost: boolean;
}

/** What the device-loss page publishes on `window.welfordDeviceLoss` for the browser test to check. */
export interface DeviceLossReport {
  /** The backend of the first device, e.g. "webgpu: google swiftshader [software]". */
  backend: string;
  /** What `fit` rejected with (null: it returned). */
  fitError: SeenError | null;
  /** The last step `onStep` saw. */
  stepReached: number;
  /** `backend.lost`: whether it resolved (within a few seconds of the loss) and its reason. */
  lostResolved: boolean;
  lostReason: string | null;
  /** Whether `backend.lost` resolved with the very error `fit` rejected with. */
  lostIsFitError: boolean;
  /** `backend.lostError` after the loss (its message). */
  lostErrorMessage: string | null;
  /** An op on the old backend after the loss (null: it did not throw). */
  laterOpError: SeenError | null;
  /** A read of a tensor made before the loss (null: it did not reject). */
  laterReadError: SeenError | null;
  /** `memory(oldBackend).liveBuffers` once the model and optimizer are disposed and the reads in flight at the loss have settled. */
  liveBuffersAfterDispose: number;
  /** The new device's backend, from a second `init()`. */
  newBackend: string;
  /** Whether the rebuilt model, after `loadSafetensors`, saves the same bytes as the checkpoint. */
  reloadedExactly: boolean;
  /** Step losses read on the new device (every step). */
  lossesAfter: number[];
  stepsAfter: number;
  /** Messages of 'unhandledrejection' events on window, over the whole page. */
  unhandledRejections: string[];
  /** Set when something threw outside what the page expects; other fields may then be missing. */
  error?: string;
}

declare global {
  interface Window {
    welfordDeviceLoss?: DeviceLossReport;
  }
}
