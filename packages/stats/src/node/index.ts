// @welford/stats/node: sinks that need Node's file system, kept out of the browser entry.
export { JsonLinesSink, jsonLinesSink, type JsonLinesSinkOptions } from './json_lines_sink.ts';
