/** The inputs: x and w are 2×2 (row-major), row is broadcast over x's rows. */
export const X = [1, 2, 3, -4];
export const W = [0.5, -1, 2, 0.25];
export const ROW = [10, -20];

/** What the smoke page publishes on `window.welfordSmoke` for the browser test to check. */
export interface SmokeReport {
  /** 'browser' when the device came from navigator.gpu. */
  runtime: string;
  /** The backend's description, e.g. "webgpu: google swiftshader [software]". */
  backend: string;
  /** The adapter's name as core gives it ("adapter with no name (GPUAdapter.info is empty)" when the browser says nothing of it). */
  adapterName: string;
  /** What the browser says of the adapter (`GPUAdapter.info`); Firefox leaves all of it empty. */
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  software: boolean;
  /** Inputs and results, row-major, as plain arrays. */
  values: Record<string, number[]>;
  /** Live GPU buffers before and after a `tidy` block (equal when intermediates were freed). */
  liveBuffersBefore: number;
  liveBuffersAfter: number;
  /** Set when something threw; every other field may then be missing. */
  error?: string;
}

declare global {
  interface Window {
    welfordSmoke?: SmokeReport;
  }
}
