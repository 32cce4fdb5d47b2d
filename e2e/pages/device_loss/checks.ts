// The browser test's checks of the device-loss page's report (run in Node by
// run-browser-tests.ts; not part of the page).
import { BATCHES_PER_EPOCH, LOSS_AT_STEP, STEPS_AFTER, type DeviceLossReport } from './report.ts';
import { check, pageErrorGuard, type Check } from '../../check.ts';


/** Chromium's own console lines about the destroyed device; anything else logged is a failure. */
export const LOSS_CONSOLE_ERROR = /destroyed|device (was |is )?lost/i;

const LOST_MESSAGE = /^WebGPU device lost \(destroyed\): /;

/** fit reads at most two losses ahead (readEvery 2), so the loss stops it within a few steps of the destroy. */
const MAX_STEPS_PAST_LOSS = 6;

export function deviceLossChecks(report: DeviceLossReport, consoleErrors: string[]): Check[] {
  const ok = check;
  const noPageError = pageErrorGuard(report);
  return [
    ok('device-loss: fit rejects with DeviceLostError (destroyed) within a few steps of the loss', () => {
      noPageError();
      const e = report.fitError;
      if (!e) throw new Error('fit returned although the device was destroyed in its onStep');
      if (e.name !== 'DeviceLostError' || !e.deviceLost) throw new Error(`fit rejected with ${e.name} (instanceof DeviceLostError: ${e.deviceLost}): ${e.message}`);
      if (!LOST_MESSAGE.test(e.message)) throw new Error(`message: ${e.message}`);
      if (!(report.stepReached >= LOSS_AT_STEP && report.stepReached <= LOSS_AT_STEP + MAX_STEPS_PAST_LOSS)) {
        throw new Error(`fit stopped after step ${report.stepReached}; the device was destroyed at step ${LOSS_AT_STEP}`);
      }
    }),
    ok('device-loss: backend.lost resolves with reason "destroyed", the error fit rejected with', () => {
      noPageError();
      if (!report.lostResolved) throw new Error('backend.lost did not resolve within 10 s of the loss');
      if (report.lostReason !== 'destroyed') throw new Error(`reason: got '${report.lostReason}', want 'destroyed'`);
      if (!report.lostIsFitError) throw new Error(`backend.lost resolved with another error than fit's (${report.fitError?.message})`);
      if (report.lostErrorMessage !== report.fitError?.message) throw new Error(`backend.lostError: ${report.lostErrorMessage}`);
    }),
    ok('device-loss: a later op and a later read on the old backend throw the same error', () => {
      noPageError();
      for (const [what, e] of [['relu', report.laterOpError], ['toArray', report.laterReadError]] as const) {
        if (!e) throw new Error(`${what} on the old backend did not throw`);
        if (!e.deviceLost || e.message !== report.fitError?.message) throw new Error(`${what} threw ${e.name}: ${e.message}`);
      }
    }),
    ok('device-loss: no live buffer once the model and optimizer are disposed', () => {
      noPageError();
      if (report.liveBuffersAfterDispose !== 0) throw new Error(`${report.liveBuffersAfterDispose} live buffers on the old backend`);
    }),
    ok(`device-loss: a new device, the checkpoint of step ${BATCHES_PER_EPOCH} loaded exactly, trains ${STEPS_AFTER} steps with finite losses`, () => {
      noPageError();
      if (!report.newBackend.startsWith('webgpu')) throw new Error(`new backend: '${report.newBackend}'`);
      if (!report.reloadedExactly) throw new Error('the rebuilt model does not save the bytes of the checkpoint it loaded');
      if (report.stepsAfter !== STEPS_AFTER) throw new Error(`${report.stepsAfter} steps, want ${STEPS_AFTER}`);
      const losses = report.lossesAfter;
      if (losses.length !== STEPS_AFTER || !losses.every(Number.isFinite)) throw new Error(`losses: ${JSON.stringify(losses)}`);
    }),
    ok('device-loss: no unhandled rejection', () => {
      if (report.unhandledRejections.length) throw new Error(report.unhandledRejections.join('\n'));
    }),
    ok('device-loss: no console errors but the loss itself', () => {
      const others = consoleErrors.filter((e) => !(e.startsWith('console.error:') && LOSS_CONSOLE_ERROR.test(e)));
      if (others.length) throw new Error(others.join('\n'));
    }),
  ];
}
