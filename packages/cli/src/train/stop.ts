// Stopping a run before its last step: the command aborts one signal, for an interrupt (SIGINT,
// SIGTERM) or for a file it cannot write, and training stops at the next step boundary with the
// weights as they are. Browser-safe: the page that trains in Chromium stops the same way.

/** Why a run was stopped: the first reason given wins. */
export type StopReason = { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM' } | { kind: 'write'; path: string; reason: string };

/** The abort signal a run watches, and the first reason it was aborted for. */
export class RunStop {
  private readonly controller = new AbortController();
  private first: StopReason | null = null;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get reason(): StopReason | null {
    return this.first;
  }

  /** Asks the run to stop; later requests keep the first reason. */
  request(reason: StopReason): void {
    if (this.first) return;
    this.first = reason;
    this.controller.abort();
  }
}

/**
 * Thrown where a stopped run has nothing to return: before training started, or in the middle
 * of an evaluation (whose partial figures would be wrong to report).
 */
export class TrainingStopped extends Error {
  constructor(where: string) {
    super(`training stopped ${where}`);
    this.name = 'TrainingStopped';
  }
}
