// @welford/stats: live statistics of a training run, computed on the GPU and read back without
// waiting. Node-only sinks are in `@welford/stats/node`.
export { attachProbes, Probes, type ProbedLayerKind, type ProbeOptions } from './probes.ts';
export type { HistogramProbeOptions } from './histogram_probe.ts';
export type { ActivationStats, ChannelStats, HistogramRecord, LayerRecord, ParamRecord, StatsRecord, StatsSink } from './record.ts';
export { covariateShift } from './shift.ts';
export { toJsonLine, parseJsonLine, toJsonText, parseJsonText } from './json_lines.ts';
export { ConsoleSink, consoleSink, summaryLine, type ConsoleSinkOptions } from './sinks/console.ts';
export { MemorySink, memorySink, type MemorySinkOptions, type RecordListener } from './sinks/memory.ts';
