// The playground page: styles, then the controller.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app.ts';

void new App().boot();
