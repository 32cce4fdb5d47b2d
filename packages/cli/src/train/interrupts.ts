// Node: SIGINT (Ctrl-C) and SIGTERM while a command runs. The first asks the run to stop at the
// next step boundary, so that it can save what it has; a second one means "now" and exits at once.

/** The exit status a shell gives a process ended by the signal (128 + its number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

export type StopSignal = keyof typeof SIGNAL_EXIT;

const SIGNALS = Object.keys(SIGNAL_EXIT) as StopSignal[];

/**
 * Calls `first` on the first SIGINT or SIGTERM and `again` on every later one (either kind),
 * instead of Node's default of dying at once. Returns the function that removes the handlers.
 */
export function onInterrupts(first: (signal: StopSignal) => void, again: (signal: StopSignal) => void): () => void {
  let received = 0;
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => (received++ === 0 ? first(signal) : again(signal));
    process.on(signal, handler);
    return { signal, handler };
  });
  return () => {
    for (const { signal, handler } of handlers) process.off(signal, handler);
  };
}

/**
 * Ends the process at once as `signal` itself would, after the process's 'exit' listeners have
 * run (Puppeteer closes its browser there). The shell sees 128 + the signal's number, and a
 * shell loop around the command stops as it should. Unlike `process.exit`, no native teardown
 * runs, which can crash while the GPU is still busy with a step.
 */
export function exitBySignal(signal: StopSignal): void {
  process.removeAllListeners(signal);
  process.emit('exit', SIGNAL_EXIT[signal]);
  process.kill(process.pid, signal);
  // Not reached where signals work as on POSIX systems.
  setTimeout(() => process.exit(SIGNAL_EXIT[signal]), 1000).unref();
}
