/** What the replicas page publishes on `window.welfordReplicas` for the browser test to check. */
export interface ReplicasReport {
  /** Each Web Worker's backend, e.g. "webgpu: google swiftshader [software]". */
  workerBackends: string[];
  /** The main thread's backend (the one-device reference). */
  referenceBackend: string;
  /** Mean loss of the whole batch per step: from the replicas (summed across them) and from one device. */
  replicaLosses: number[];
  referenceLosses: number[];
  /** Largest |replica − one device| over every parameter and buffer after training, per replica. */
  maxDiffToReference: number[];
  /** Largest |replica r − replica 0| over every parameter and buffer (0: identical). */
  maxDiffBetweenReplicas: number;
  /** The names compared (parameters and buffers). */
  stateNames: string[];
  /** Set when something threw; every other field may then be missing. */
  error?: string;
}

declare global {
  interface Window {
    welfordReplicas?: ReplicasReport;
  }
}
