// The experiments lab: one button per experiment of @welford/experiments. A click pauses
// training, runs the experiment on the page's backend with the packed digits, and shows its
// charts, tables and verdict as they are measured; Stop ends it between steps.
import { EXPERIMENTS, ExperimentAborted, type Experiment, type ExperimentResult } from '@welford/experiments';
import type { LabeledImages } from '@welford/data';
import { loadDataset } from '../data/load.ts';
import type { ExperimentState } from '../page_state.ts';
import { loadLabResults, saveLabResult } from '../persist.ts';
import { ExperimentResultView } from '../views/experiment_result.ts';
import { planLine, progressLine } from './plan_text.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What the lab needs from the page. */
export interface LabHooks {
  /** Pauses training before an experiment takes the device. */
  pauseTraining(): Promise<void>;
  /** Called when an experiment starts (true) and ends (false). */
  busy(running: boolean): void;
  /** Where the lab reports for tests (window.playgroundState.experiment). */
  report(state: ExperimentState): void;
}

function stateOf(result: ExperimentResult, running: boolean, error: string | null = null, restored = false, planned: number | null = null): ExperimentState {
  return {
    restored,
    planned,
    name: result.name,
    running,
    done: result.done,
    holds: result.holds,
    verdict: result.verdict,
    rows: result.tables.reduce((n, t) => n + t.rows.length, 0),
    points: result.charts.reduce((n, c) => n + c.series.reduce((m, s) => m + s.points.length, 0), 0),
    steps: result.work.steps,
    seconds: result.seconds,
    error,
  };
}

/** The state of a run that has measured nothing yet (starting, or ended before its first result). */
function unmeasured(name: string, running: boolean, planned: number, error: string | null): ExperimentState {
  return { name, running, done: false, holds: null, verdict: '', rows: 0, points: 0, steps: 0, planned, seconds: 0, error, restored: false };
}

export class Lab {
  private controller: AbortController | null = null;
  private view: ExperimentResultView | null = null;
  private enabled = false;

  constructor(private readonly hooks: LabHooks) {
    const list = $('lab-list');
    for (const experiment of EXPERIMENTS) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'lab-preset';
      button.dataset.experiment = experiment.name;
      button.title = experiment.claim;
      button.textContent = experiment.title;
      button.addEventListener('click', () => void this.run(experiment));
      list.append(button);
    }
    $('lab-stop').addEventListener('click', () => this.controller?.abort());
    this.setButtons();
  }

  /**
   * Shows the newest result kept from an earlier visit, if any (the card says when it was
   * measured); running an experiment replaces it.
   */
  async restore(): Promise<void> {
    const saved = Object.values(await loadLabResults()).sort((a, b) => b.savedAt - a.savedAt)[0];
    if (!saved || this.controller) return;
    const experiment = EXPERIMENTS.find((e) => e.name === saved.result.name);
    if (!experiment) return;
    const view = this.openCard(experiment);
    view.show(saved.result);
    $('lab-progress').textContent = `measured ${new Date(saved.savedAt).toLocaleString()}${saved.quick ? ', quick' : ', full size'} · ${saved.result.seconds.toFixed(0)} s`;
    this.hooks.report(stateOf(saved.result, false, null, true));
  }

  /** Experiments can run once the page has a backend. */
  enable(enabled: boolean): void {
    this.enabled = enabled;
    this.setButtons();
  }

  /** Runs an experiment by name (the buttons, and tests through the page's hooks). */
  start(name: string): void {
    const experiment = EXPERIMENTS.find((e) => e.name === name);
    if (!experiment) throw new Error(`no experiment named "${name}"`);
    void this.run(experiment);
  }

  /** The result card, emptied and titled for `experiment`. */
  private openCard(experiment: Experiment): ExperimentResultView {
    $('lab-result').hidden = false;
    $('lab-title').textContent = experiment.title;
    $('lab-claim').textContent = `Claim: ${experiment.claim}`;
    $('lab-plan').textContent = '';
    this.view?.destroy();
    this.view = new ExperimentResultView($('lab-charts'), $('lab-tables'), $('lab-verdict'));
    return this.view;
  }

  private setButtons(): void {
    const running = this.controller !== null;
    for (const b of document.querySelectorAll<HTMLButtonElement>('.lab-preset')) b.disabled = !this.enabled || running;
    $<HTMLButtonElement>('lab-stop').disabled = !running;
  }

  private async run(experiment: Experiment): Promise<void> {
    if (this.controller || !this.enabled) return;
    const controller = new AbortController();
    this.controller = controller;
    this.setButtons();
    this.hooks.busy(true);
    const view = this.openCard(experiment);
    $('lab-progress').textContent = 'starting…';
    const quick = !$<HTMLInputElement>('lab-full').checked;
    // Said before any work: what the run shows and how much it does.
    const plan = experiment.plan({ quick, seed: 1 });
    $('lab-plan').textContent = planLine(plan, quick);
    let last: ExperimentResult | null = null;
    const show = (result: ExperimentResult) => {
      last = result;
      view.show(result);
      $('lab-progress').textContent = progressLine(plan, result.done, result.work.steps, result.work.samples, result.seconds);
      this.hooks.report(stateOf(result, !result.done, null, false, plan.steps));
    };
    this.hooks.report(unmeasured(experiment.name, true, plan.steps, null));
    try {
      await this.hooks.pauseTraining();
      const digits = async () => {
        const { train, test } = await loadDataset('mnist');
        return { train: train as LabeledImages, test: test as LabeledImages };
      };
      const result = await experiment.run({ digits, onUpdate: show, signal: controller.signal }, { quick, seed: 1 });
      show(result);
      // Kept for the next visit; a browser without IndexedDB just does not keep it.
      await saveLabResult({ result, quick, savedAt: Date.now() }).catch(() => undefined);
    } catch (e) {
      const stopped = e instanceof ExperimentAborted;
      const message = e instanceof Error ? e.message : String(e);
      $('lab-progress').textContent = stopped ? 'stopped' : 'failed';
      $('lab-verdict').textContent = stopped ? 'Stopped before the measurement was complete: no verdict.' : `The experiment failed: ${message}`;
      const partial = last as ExperimentResult | null;
      this.hooks.report(partial ? stateOf(partial, false, message, false, plan.steps) : unmeasured(experiment.name, false, plan.steps, message));
    } finally {
      this.controller = null;
      this.setButtons();
      this.hooks.busy(false);
    }
  }
}
