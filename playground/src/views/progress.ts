// The line beside the run state that says what the page is doing while the visitor waits:
// fetching data (with the bytes), unpacking it, building the model, compiling and evaluating.

/** One wait, as the page shows it: what is happening, and how far (done of total) where that can be measured. */
export interface Progress {
  /** Which wait: 'list', 'device', 'stop', 'data', 'unpack', 'model', 'weights' or 'evaluate'. */
  task: string;
  label: string;
  done: number | null;
  total: number | null;
}

/** A wait whose progress cannot be measured (the bar moves without a position). */
export function waiting(task: string, label: string): Progress {
  return { task, label, done: null, total: null };
}

export class ProgressView {
  private readonly root: HTMLElement;
  private readonly label: HTMLElement;
  private readonly bar: HTMLProgressElement;

  /** Puts the (hidden) line after `anchor`. */
  constructor(anchor: HTMLElement) {
    this.root = document.createElement('span');
    this.root.id = 'progress';
    this.root.className = 'progress';
    this.root.setAttribute('role', 'status');
    this.root.hidden = true;
    this.label = document.createElement('span');
    this.label.id = 'progress-label';
    this.bar = document.createElement('progress');
    this.bar.id = 'progress-bar';
    this.root.append(this.label, this.bar);
    anchor.after(this.root);
  }

  /** Shows `p`; a bar without a total moves without a position (an indeterminate bar). */
  show(p: Progress): void {
    this.root.hidden = false;
    this.label.textContent = p.label;
    if (p.done !== null && p.total !== null && p.total > 0) {
      this.bar.max = p.total;
      this.bar.value = Math.min(p.done, p.total);
    } else {
      this.bar.removeAttribute('value');
    }
  }

  hide(): void {
    this.root.hidden = true;
  }
}

/** "1.2 of 4.5 MB" (or "1.2 MB" while the total is unknown). */
export function formatBytes(loaded: number, total: number | null): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return total === null ? `${mb(loaded)} MB` : `${mb(loaded)} of ${mb(total)} MB`;
}
