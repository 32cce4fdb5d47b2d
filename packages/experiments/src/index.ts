// @welford/experiments: the claims about normalization, measured on real training. Browser-safe:
// the command line and the playground run the same experiments. Charts: @welford/experiments/plot.
export type { Cell, ResultColumn, ResultTable, ResultSeries, ResultChart, ExperimentWork, ExperimentResult, DigitsData, ExperimentContext, RunOptions, ExperimentPlan, Experiment } from './types.ts';
export { ExperimentAborted } from './types.ts';
export { EXPERIMENTS, findExperiment } from './registry.ts';
export { formatCell, formatTable, markdownTable, formatResult, markdownResult, type ResultRecord } from './format.ts';
export { MNIST_NORMALIZATION } from './training/digits.ts';
