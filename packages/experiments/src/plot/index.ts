// @welford/experiments/plot: experiments' charts drawn with uPlot in a page (the playground, and
// the page the command line photographs for its PNG). Needs a DOM; import uPlot's CSS beside it.
export { ChartView, formatTick, type ChartViewOptions } from './chart_view.ts';
export { alignedData } from './aligned.ts';
