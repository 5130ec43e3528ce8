// The lab's objective curves (uPlot): J_ESM(p) with J_ISM + C_ISM, and J_ESM(q_sigma) with
// J_DSM + C_DSM, solid and dashed in the same hue, so that each coinciding pair reads as one line.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { COLORS, type Rgb } from '../../src/lab/render.ts';
import type { CurvePoint } from '../../src/lab/session.ts';

const css = (c: Rgb) => `rgb(${c.join(',')})`;

export class CurvesChart {
  private readonly plot: uPlot;
  private data: number[][] = [[], [], [], [], []];
  private pending = false;

  constructor(container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: Math.max(300, container.clientWidth || 640),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: 'training step' }, { label: 'objective', size: 60 }],
        series: [
          { label: 'step' },
          { label: 'J_ESM(p)', stroke: css(COLORS.esm), width: 2 },
          { label: 'J_ISM + C', stroke: css(COLORS.ism), width: 2, dash: [6, 4] },
          { label: 'J_ESM(q_σ)', stroke: css(COLORS.esmSmoothed), width: 2 },
          { label: 'J_DSM + C', stroke: css(COLORS.dsm), width: 2, dash: [6, 4] },
        ],
        legend: { live: false },
      },
      this.data as uPlot.AlignedData,
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, container.clientWidth), height: 260 })).observe(container);
  }

  clear(): void {
    this.data = [[], [], [], [], []];
    this.plot.setData(this.data as uPlot.AlignedData);
  }

  add(p: CurvePoint, cIsm: number, cDsm: number): void {
    const row = [p.step, p.esm, p.ism + cIsm, p.esmSmoothed, p.dsm + cDsm];
    row.forEach((v, i) => this.data[i]!.push(v));
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.plot.setData(this.data as uPlot.AlignedData);
      });
    }
  }

  /** Rows drawn so far (for tests). */
  get length(): number {
    return this.data[0]!.length;
  }
}
