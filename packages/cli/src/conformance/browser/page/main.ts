// The page `welford conformance --browser` drives: `window.welfordConformanceStart()` starts the
// browser's WebGPU backend and says what it is; `window.welfordConformance(file, options)` runs a
// case file (the JSON text Node validated) with the same `runCaseFile` as Node and answers with
// the results as a JSON string (../protocol.ts). It imports the browser entries only.
import { init, type Backend } from '@welford/core';
import { runCaseFile } from '../../runner.ts';
import { decodeCaseFile, encodeRunResponse, type PageRunOptions, type StartResponse } from '../protocol.ts';

declare global {
  interface Window {
    /** Resolves with a `StartResponse` as JSON. */
    welfordConformanceStart?: () => Promise<string>;
    /** Resolves with `encodeRunResponse`'s string. */
    welfordConformance?: (file: string, options: PageRunOptions) => Promise<string>;
  }
}

const status = document.getElementById('status')!;
let backend: Backend | null = null;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

window.welfordConformanceStart = async () => {
  let response: StartResponse;
  try {
    backend ??= await init();
    const userAgent = navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+|Firefox\/[\d.]+/)?.[0] ?? navigator.userAgent;
    response = { ok: true, info: { backend: backend.description, userAgent } };
    status.textContent = `ready: ${backend.description}`;
  } catch (e) {
    response = { ok: false, message: `cannot start WebGPU: ${message(e)}` };
    status.textContent = response.message;
  }
  return JSON.stringify(response);
};

window.welfordConformance = async (text, _options) => {
  try {
    if (!backend) throw new Error('welfordConformanceStart() has not started a backend');
    const file = decodeCaseFile(text);
    status.textContent = `running ${file.source}…`;
    const results = await runCaseFile(file, backend);
    status.textContent = `done: ${file.source}`;
    return encodeRunResponse({ ok: true, results });
  } catch (e) {
    status.textContent = `failed: ${message(e)}`;
    return encodeRunResponse({ ok: false, message: message(e), stack: e instanceof Error ? e.stack : undefined });
  }
};
status.textContent = 'loaded';
