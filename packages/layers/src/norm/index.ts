// Filled in as the norm modules are written.
export {};
