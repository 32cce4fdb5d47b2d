// Columns of numbers against the training step, in the shape uPlot draws: one shared x array
// and one y array per series, with null where a series has no value at that step.
import type uPlot from 'uplot';

/** Rows kept before the older half is thinned to every other row. */
const MAX_ROWS = 3000;

/** A table as IndexedDB keeps it (a structured clone keeps NaN). */
export interface SavedTable {
  x: number[];
  columns: [string, (number | null)[]][];
}

export class TimeTable {
  readonly x: number[] = [];
  private readonly columns = new Map<string, (number | null)[]>();
  /** Bumped on every change, so a chart redraws only when its data moved. */
  version = 0;

  /** Series names in the order they first appeared. */
  get names(): string[] {
    return [...this.columns.keys()];
  }

  /**
   * Sets `values` at step `x`: merged into the row of that step if there is one (a test point
   * after the training point of the same step), else a new row in step order.
   */
  add(x: number, values: Record<string, number | null | undefined>): void {
    let row = this.x.length;
    while (row > 0 && this.x[row - 1] > x) row--;
    if (row === 0 || this.x[row - 1] !== x) {
      this.x.splice(row, 0, x);
      for (const col of this.columns.values()) col.splice(row, 0, null);
    } else {
      row--;
    }
    for (const [name, v] of Object.entries(values)) {
      if (v === undefined) continue;
      let col = this.columns.get(name);
      if (!col) {
        col = new Array<number | null>(this.x.length).fill(null);
        this.columns.set(name, col);
      }
      col[row] = v;
    }
    if (this.x.length > MAX_ROWS) this.thin();
    this.version++;
  }

  /** The series named `names`, aligned on x, as uPlot takes them (missing series are all null). */
  data(names: readonly string[]): uPlot.AlignedData {
    return [this.x, ...names.map((n) => this.columns.get(n) ?? new Array<null>(this.x.length).fill(null))];
  }

  /** The latest non-null value of a series. */
  last(name: string): number | null {
    const col = this.columns.get(name);
    if (!col) return null;
    for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null) return col[i];
    return null;
  }

  /** The table as plain data for storage, thinned to at most `maxRows` rows (every k-th, the last kept). */
  snapshot(maxRows: number): SavedTable {
    const stride = Math.max(1, Math.ceil(this.x.length / maxRows));
    const keep = (_: unknown, i: number) => (this.x.length - 1 - i) % stride === 0;
    return { x: this.x.filter(keep), columns: [...this.columns].map(([name, col]) => [name, col.filter(keep)]) };
  }

  /** Replaces the contents with a snapshot's (the table object stays, so charts drawing it keep working). */
  restore(saved: SavedTable): void {
    this.x.splice(0, this.x.length, ...saved.x);
    this.columns.clear();
    for (const [name, col] of saved.columns) if (col.length === saved.x.length) this.columns.set(name, [...col]);
    this.version++;
  }

  clear(): void {
    this.x.length = 0;
    this.columns.clear();
    this.version++;
  }

  /** Keeps every other row of the older half, so long runs stay cheap to draw. */
  private thin(): void {
    const half = Math.floor(this.x.length / 2);
    const keep = (_: unknown, i: number) => i >= half || i % 2 === 0;
    const x = this.x.filter(keep);
    this.x.splice(0, this.x.length, ...x);
    for (const [name, col] of this.columns) this.columns.set(name, col.filter(keep));
  }
}
