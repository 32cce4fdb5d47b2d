export const EXPERIMENT_USAGE = `usage: welford experiment NAME... | all [--quick] [--seed N] [--out DIR] [--overwrite] [--no-plot] [--list]

Runs experiments that measure claims about normalization on real training (docs/experiments.md):
prints each one's tables and a verdict written from the measured numbers, and writes
DIR/NAME.json (the result), DIR/NAME.md (its tables) and DIR/NAME.png (its charts, drawn in
headless Chromium). Files an earlier run left there are not replaced unless --overwrite.
  --list        the experiments there are, with the claim each tests
  --quick       a small version of each (fewer settings and samples, still real training)
  --seed N      seed of initialisations, data order and random draws (default 1)
  --out DIR     where the files go (default runs/experiments); a DIR holding any of the files
                the run would write is refused before any work
  --overwrite   replace those files
  --no-plot     no PNG (no Chromium needed)
  --cpu         run on the CPU reference instead of WebGPU (slow)`;
