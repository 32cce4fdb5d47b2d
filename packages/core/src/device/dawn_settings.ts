// Plain data about Dawn in Node, kept apart from the loader so that importing it costs nothing in
// a browser bundle.

/** Where Debian's `chromium` package (and Chrome) put the SwiftShader Vulkan driver. */
export const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/**
 * Where to look for the SwiftShader Vulkan driver, in order: the user's `WELFORD_SWIFTSHADER_ICD`
 * (passed in: this module reads no environment), then `paths`.
 */
export function swiftShaderIcdCandidates(fromUser: string | undefined, paths: readonly string[] = SWIFTSHADER_ICD_CANDIDATES): string[] {
  return [...(fromUser ? [fromUser] : []), ...paths];
}

/**
 * Dawn's flags for Node. Timestamps are left at the driver's resolution: browsers round them
 * (against timing attacks on web pages), which makes short dispatches read as 0 or 65 µs.
 */
export const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];
