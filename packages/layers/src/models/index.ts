// Filled in as the models modules are written.
export {};
