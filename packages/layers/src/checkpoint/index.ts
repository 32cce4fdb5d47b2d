// Filled in as the checkpoint modules are written.
export {};
