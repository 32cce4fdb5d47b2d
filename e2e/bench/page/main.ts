// The benchmark page: runs the suite in the browser and publishes the BenchReport on
// `window.welfordBench` as a JSON string (encodeReport); progress goes to the console (the
// driver prints it) and to the page.
import { encodeReport } from '../report.ts';
import { runSuite } from './suite.ts';
import { makePlan } from './timing.ts';

const lines: string[] = [];
function log(message: string): void {
  console.log(`[bench] ${message}`);
  lines.push(message);
  document.getElementById('log')!.textContent = lines.join('\n');
}

const plan = makePlan(new URLSearchParams(location.search).get('quick') === '1');
void runSuite(plan, navigator.userAgent, log).then((report) => {
  document.body.dataset.status = report.error ? 'error' : 'done';
  window.welfordBench = encodeReport(report);
});
