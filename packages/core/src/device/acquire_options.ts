// What a caller may ask of acquireDevice, in a file of its own: acquire.ts and the Node loader
// it imports dynamically (node_adapter.ts) both need it, and neither may import the other.

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Node only: skip hardware adapters and go straight to SwiftShader. */
  forceSoftware?: boolean;
  /**
   * Node only: where to look for `vk_swiftshader_icd.json`, instead of the usual places
   * (`SWIFTSHADER_ICD_CANDIDATES`). `WELFORD_SWIFTSHADER_ICD` in the environment is tried first.
   */
  swiftShaderIcdPaths?: string[];
}
