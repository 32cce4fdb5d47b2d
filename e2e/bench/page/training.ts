// Times training steps the same way for either framework: (a) the loss read back after every
// step, (b) `pipelinedSteps` steps and one readback at the end, divided by the steps. Counts the
// dispatches and the buffers created per step (after the warm-up) while it times.
import type { Side } from '../report.ts';
import { perRep, snapshot, type GpuCalls } from './counting.ts';
import { repsFor, stat, timeSamples, type Plan } from './timing.ts';

/** A step's loss: read it back (waits for the GPU), or drop it. */
export interface Loss {
  read(): Promise<number>;
  dispose(): void;
}

/** One framework's model, data and optimizer: `step()` records a full training step (forward, backward, update). */
export interface Trainer {
  step(): Loss;
  /** The framework's own dispatch counter, where it has one. */
  ownDispatches?(): number;
}

export interface TrainingResult {
  perStep: Side;
  pipelined: Side;
  firstLoss: number;
  lastLoss: number;
  /** Steps taken in all, warm-up included. */
  steps: number;
}

/** How the timed steps are laid out; both frameworks get the same, so they take the same steps. */
export interface TrainingLayout {
  samples: number;
  pipelinedSamples: number;
  /** Steps per sample of figure (a). */
  perStepReps: number;
  /** Steps per sample of figure (b). */
  pipelinedSteps: number;
}

/** What the warm-up found: the first step's loss and how long the last warm-up step took. */
export interface WarmUp {
  firstLoss: number;
  lastLoss: number;
  stepMs: number;
}

async function stepAndRead(trainer: Trainer): Promise<number> {
  const loss = trainer.step();
  const value = await loss.read();
  loss.dispose();
  return value;
}

/** Runs `plan.warmup` steps (the first compiles pipelines and fills buffer pools), reading each loss. */
export async function warmUp(trainer: Trainer, plan: Plan): Promise<WarmUp> {
  let firstLoss = NaN;
  let lastLoss = NaN;
  let stepMs = 0;
  for (let i = 0; i < plan.warmup; i++) {
    const t0 = performance.now();
    lastLoss = await stepAndRead(trainer);
    stepMs = performance.now() - t0;
    if (i === 0) firstLoss = lastLoss;
  }
  return { firstLoss, lastLoss, stepMs };
}

/**
 * The layout for a step of `stepMs` (the slower framework's): the first of the plan's
 * choices whose timed steps fit its budget, else the last (smallest) choice.
 */
export function chooseLayout(plan: Plan, stepMs: number): TrainingLayout {
  const perStepReps = repsFor(plan, stepMs);
  const fits = plan.training.find((c) => (c.samples * perStepReps + c.pipelinedSamples * c.pipelinedSteps) * stepMs <= plan.trainingBudgetMs);
  const choice = fits ?? plan.training[plan.training.length - 1];
  return { ...choice, perStepReps };
}

function side(ms: number[], reps: number, calls: GpuCalls, ownDispatches: number | undefined): Side {
  return { ms: stat(ms), repsPerSample: reps, dispatches: calls.dispatches, buffers: calls.buffers, ...(ownDispatches === undefined ? {} : { ownDispatches }) };
}

/** Times figures (a) and (b) of a warmed-up trainer, counting GPU calls per step. */
export async function measureTraining(trainer: Trainer, warm: WarmUp, plan: Plan, layout: TrainingLayout): Promise<TrainingResult> {
  const { samples, perStepReps, pipelinedSamples, pipelinedSteps } = layout;
  let last = warm.lastLoss;
  const own = () => trainer.ownDispatches?.() ?? 0;

  // (a) read the loss back after every step.
  let from = snapshot();
  let ownFrom = own();
  const perStepMs = await timeSamples(samples, perStepReps, async (reps) => {
    for (let i = 0; i < reps; i++) last = await stepAndRead(trainer);
  });
  const n = samples * perStepReps;
  const perStep = side(perStepMs, perStepReps, perRep(from, n), trainer.ownDispatches ? (own() - ownFrom) / n : undefined);

  // (b) record `pipelinedSteps` steps, read only the last loss.
  from = snapshot();
  ownFrom = own();
  const pipelinedMs = await timeSamples(pipelinedSamples, pipelinedSteps, async (reps) => {
    let loss: Loss | null = null;
    for (let i = 0; i < reps; i++) {
      loss?.dispose();
      loss = trainer.step();
    }
    last = await loss!.read();
    loss!.dispose();
  });
  const m = pipelinedSamples * pipelinedSteps;
  const pipelined = side(pipelinedMs, pipelinedSteps, perRep(from, m), trainer.ownDispatches ? (own() - ownFrom) / m : undefined);
  return { perStep, pipelined, firstLoss: warm.firstLoss, lastLoss: last, steps: plan.warmup + n + m };
}
