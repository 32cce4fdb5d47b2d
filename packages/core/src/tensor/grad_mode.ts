let enabled = true;

/** Whether ops record themselves for `backward()`. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without recording gradients (like `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const previous = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}
