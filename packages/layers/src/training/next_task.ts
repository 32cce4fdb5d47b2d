/**
 * Resolves on a later turn of the event loop, not in a microtask: readbacks that finished can
 * settle and a page can paint, without waiting for the GPU. `setImmediate` in Node; a message
 * channel in browsers (a nested `setTimeout` is clamped to 4 ms there).
 */
export function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
