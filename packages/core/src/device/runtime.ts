// Which runtime welford runs in, and so where its WebGPU comes from. Kept a pure function of a few
// facts about the global scope, so that the choice is testable in any runtime.

/** The runtime a device was acquired in. */
export type WebGpuRuntime = 'browser' | 'deno' | 'node';

/** What acquireDevice looks at in the global scope. */
export interface RuntimeFacts {
  /** The runtime's own WebGPU entry point (`navigator.gpu`): browsers, web workers, Deno. */
  readonly gpu: GPU | undefined;
  /** `Deno.version.deno` where this is Deno. */
  readonly deno: string | undefined;
  /**
   * `process.versions.node` where this is Node; Deno and Bun set it too, and so do
   * DOM emulations that run in Node (with a `document`), which count as browsers here.
   */
  readonly node: string | undefined;
  /** Whether a `document` exists (a page, or a DOM emulation). */
  readonly document: boolean;
}

/**
 * Where the device comes from: the runtime's `navigator.gpu`, Dawn loaded from the `webgpu`
 * package (Node only), or nowhere, with the reason.
 */
export type DeviceSource =
  | { readonly from: 'navigator'; readonly gpu: GPU; readonly runtime: WebGpuRuntime }
  | { readonly from: 'dawn'; readonly runtime: 'node' }
  | { readonly from: 'none'; readonly runtime: WebGpuRuntime; readonly reason: string };

export function runtimeFacts(scope: object = globalThis): RuntimeFacts {
  const g = scope as {
    navigator?: { gpu?: GPU };
    Deno?: { version?: { deno?: string } };
    process?: { versions?: { node?: string } };
    document?: unknown;
  };
  return {
    gpu: g.navigator?.gpu ?? undefined,
    deno: g.Deno?.version?.deno,
    node: g.process?.versions?.node,
    document: 'document' in g,
  };
}

/** The runtime, judged from the facts: Deno first (it also sets `process.versions.node`). */
export function runtimeOf(facts: RuntimeFacts): WebGpuRuntime {
  if (facts.deno !== undefined) return 'deno';
  if (facts.node !== undefined && !facts.document) return 'node';
  return 'browser';
}

/** "Deno 2.9.6", "Node 20.19.0" or "browser": how errors name the runtime. */
export function runtimeLabel(facts: RuntimeFacts): string {
  const runtime = runtimeOf(facts);
  if (runtime === 'deno') return `Deno ${facts.deno}`;
  if (runtime === 'node') return `Node ${facts.node}`;
  return 'browser';
}

/** The runtime's own `navigator.gpu` wherever there is one; Dawn only in Node, which has none. */
export function chooseDeviceSource(facts: RuntimeFacts): DeviceSource {
  const runtime = runtimeOf(facts);
  if (facts.gpu) return { from: 'navigator', gpu: facts.gpu, runtime };
  if (runtime === 'node') return { from: 'dawn', runtime };
  if (runtime === 'deno') {
    return { from: 'none', runtime, reason: 'navigator.gpu is undefined: run deno with --unstable-webgpu (or "unstable": ["webgpu"] in deno.json) to turn WebGPU on' };
  }
  return { from: 'none', runtime, reason: 'this browser exposes no navigator.gpu (WebGPU is unavailable or disabled)' };
}

/** What to do when `navigator.gpu.requestAdapter()` answers null, for the error's last words. */
export function noAdapterHint(runtime: WebGpuRuntime): string {
  if (runtime === 'deno') {
    return (
      'wgpu found no Vulkan, Metal, DX12 or GL adapter; without a GPU, point VK_ICD_FILENAMES at a software Vulkan driver ' +
      '(SwiftShader: /usr/lib/chromium/vk_swiftshader_icd.json from Debian\'s chromium package) before starting deno'
    );
  }
  return 'the runtime refused every adapter';
}
