// What the browser tests' checks of a page's report share: a named check, and the guard every
// check of a page runs first (a page that failed has no figures worth checking).

/** One named assertion on a page's report; `run` throws to fail. */
export interface Check {
  name: string;
  run(): void;
}

export const check = (name: string, run: () => void): Check => ({ name, run });

/** A function that throws when the page reported an error of its own. */
export function pageErrorGuard(report: { error?: string }): () => void {
  return () => {
    if (report.error) throw new Error(`the page failed: ${report.error}`);
  };
}
