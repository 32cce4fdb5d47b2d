// The errors the command line reports without a stack trace, by the exit status they give.

/** A problem with the command line: reported with the command's usage, exit status 2. */
export class UsageError extends Error {}

/** A problem with the machine before any work (conformance: no WebGPU adapter), exit status 2. */
export class SetupError extends Error {}

/** A run that started and failed (a missing dataset file, a NaN loss), exit status 1. */
export class RunError extends Error {}
