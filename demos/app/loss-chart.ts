// The live loss chart (uPlot): the loss read back every logEvery steps, and its exponential moving
// average, on a log scale (diffusion losses fall over orders of magnitude early on).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Log-scale ticks: 0.5, 0.02, 3e-4 (uPlot's default rounds small losses to 0). */
function tickLabel(v: number | null): string {
  if (v == null) return '';
  return v >= 0.01 ? String(Number(v.toPrecision(2))) : v.toExponential(0);
}

export class LossChart {
  private steps: number[] = [];
  private losses: number[] = [];
  private smooth: number[] = [];
  /** Exponential moving average of the loss, bias-corrected as in Adam (it starts at zero). */
  private ema = 0;
  private readonly plot: uPlot;
  private pending = false;

  constructor(container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: Math.max(300, container.clientWidth || 520),
        height: 220,
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [{ label: 'step' }, { label: 'loss', size: 60, values: (_u, splits) => splits.map(tickLabel) }],
        series: [
          { label: 'step' },
          { label: 'loss', stroke: '#9bb7d4', width: 1 },
          { label: 'smoothed', stroke: '#1f5fa8', width: 2 },
        ],
        legend: { live: false },
      },
      [[], [], []],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, container.clientWidth), height: 220 })).observe(container);
  }

  get points(): { step: number; loss: number }[] {
    return this.steps.map((step, i) => ({ step, loss: this.losses[i]! }));
  }

  clear(): void {
    this.steps = [];
    this.losses = [];
    this.smooth = [];
    this.ema = 0;
    this.plot.setData([[], [], []]);
  }

  add(points: readonly { step: number; loss: number }[]): void {
    for (const p of points) {
      this.ema = 0.9 * this.ema + 0.1 * p.loss;
      this.steps.push(p.step);
      this.losses.push(p.loss);
      this.smooth.push(this.ema / (1 - 0.9 ** this.steps.length));
    }
    // One redraw per animation frame however many messages arrive.
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.plot.setData([this.steps, this.losses, this.smooth]);
      });
    }
  }
}
