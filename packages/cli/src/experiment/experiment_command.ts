// Node: `welford experiment NAME...`. Runs experiments from @welford/experiments on WebGPU (or
// the CPU reference) with the mnist package's digits, prints each result's rows as they are
// measured and then its tables and verdict, and writes NAME.json, NAME.md and NAME.png, never
// over an earlier run's files unless --overwrite.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENTS, findExperiment, formatCell, formatResult, markdownResult, type DigitsData, type Experiment, type ExperimentResult } from '@welford/experiments';
import { loadMnistDigits } from '@welford/data/node';
import { UsageError } from '../errors.ts';
import { checkNoEarlierFiles } from '../existing_outputs.ts';
import { startBackend } from '../train/backend_node.ts';
import { datasetError } from '../train/datasets_node.ts';
import { writeAtomic } from '../train/atomic_file.ts';
import { parseExperimentArgs } from './args.ts';
import { renderFigures } from './plot_png.ts';

function listExperiments(): void {
  const width = Math.max(...EXPERIMENTS.map((e) => e.name.length));
  for (const e of EXPERIMENTS) console.log(`${e.name.padEnd(width)}  ${e.claim}`);
}

function chosen(names: readonly string[]): Experiment[] {
  if (names.includes('all')) return [...EXPERIMENTS];
  return names.map((name) => {
    try {
      return findExperiment(name);
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  });
}

/** The files a run of `experiments` writes in `out`: NAME.json, NAME.md, and NAME.png unless --no-plot. */
function outputFiles(experiments: readonly Experiment[], out: string, plot: boolean): string[] {
  const extensions = plot ? ['json', 'md', 'png'] : ['json', 'md'];
  return experiments.flatMap((e) => extensions.map((ext) => join(out, `${e.name}.${ext}`)));
}

/** The digits, loaded once on first use. */
function digitsLoader(): () => Promise<DigitsData> {
  let data: DigitsData | null = null;
  return async () => {
    try {
      data ??= { train: loadMnistDigits({ split: 'train' }), test: loadMnistDigits({ split: 'test' }) };
    } catch (e) {
      throw datasetError('mnist', e);
    }
    return data;
  };
}

/** Prints each table row once, as it arrives: "  12.3 s  t=1  EMA mean=0.300 ...". */
function rowPrinter(): (result: ExperimentResult) => void {
  const printed = new Map<string, number>();
  return (result) => {
    for (const table of result.tables) {
      const done = printed.get(table.title) ?? 0;
      for (const row of table.rows.slice(done)) {
        const cells = row.map((cell, i) => `${table.columns[i].label}=${formatCell(cell, table.columns[i])}`);
        console.log(`  ${result.seconds.toFixed(1).padStart(6)} s  ${cells.join('  ')}`);
      }
      printed.set(table.title, table.rows.length);
    }
  };
}

export async function experimentCommand(args: string[]): Promise<number> {
  const options = parseExperimentArgs(args);
  if (options.list) {
    listExperiments();
    return 0;
  }
  const experiments = chosen(options.names);
  // Before any work: a full-size result must not be lost to a later --quick run by accident.
  checkNoEarlierFiles('the output', outputFiles(experiments, options.out, options.plot), '--out', options.overwrite);
  const backend = await startBackend(options.cpu);
  const record = { adapter: backend.description, date: new Date().toISOString() };
  console.log(`experiments on ${record.adapter}${options.quick ? ' (quick)' : ''}`);
  mkdirSync(options.out, { recursive: true });
  const digits = digitsLoader();
  const results: ExperimentResult[] = [];
  for (const experiment of experiments) {
    console.log(`\n== ${experiment.name}: ${experiment.title}`);
    const result = await experiment.run({ digits, onUpdate: rowPrinter() }, { quick: options.quick, seed: options.seed });
    console.log(`\n${formatResult(result)}`);
    const base = join(options.out, experiment.name);
    writeAtomic(`${base}.json`, `${JSON.stringify({ ...record, result }, null, 2)}\n`);
    writeAtomic(`${base}.md`, markdownResult(result, { ...record, image: options.plot ? `${experiment.name}.png` : undefined }));
    results.push(result);
  }
  if (options.plot) {
    const images = await renderFigures(results, record);
    images.forEach((png, i) => writeAtomic(join(options.out, `${results[i].name}.png`), png));
  }
  console.log(`\n${results.map((r) => `${r.name}: ${r.holds ? 'holds' : 'does not hold'}`).join('\n')}`);
  console.log(`written: ${results.map((r) => join(options.out, `${r.name}.{json,md${options.plot ? ',png' : ''}}`)).join(', ')}`);
  return 0;
}
