// @welford/cli as a library: read, validate and run conformance case files (shared/CONFORMANCE.md).
export { CaseFileError, parseCaseFile, readCaseFile, type CaseFile, type CaseTensor, type ConformanceCase, type Tolerance } from './conformance/case_file.ts';
export { conformanceOps, UnsupportedError, type OpAdapter, type OpSignature } from './conformance/ops.ts';
export { compareValues, runCase, runCaseFile, type CaseResult, type Comparison, type RunOptions } from './conformance/runner.ts';
export { formatRow, formatSummary, resultsJson, rowLayout } from './conformance/report.ts';
