// Progress of a long command (training, sampling): a live bar with it/s and ETA on an interactive
// terminal (cli-progress), and, when the output is not a TTY or CI is set, a plain line every few
// seconds, so that logs stay readable and do not fill with carriage returns.
import cliProgress from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  total: number;
  label?: string;
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default: 'bar' on a TTY outside CI, else 'lines'. */
  mode?: ProgressMode;
  /** Seconds between plain lines (default 10). */
  intervalSeconds?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** Extra values shown after the rate, e.g. { loss: 0.0123 }. */
export type ProgressInfo = Record<string, string | number>;

export function defaultProgressMode(stream: { isTTY?: boolean }): ProgressMode {
  return stream.isTTY && !process.env.CI ? 'bar' : 'lines';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatInfo(info: ProgressInfo): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3)) : v}`)
    .join(' ');
}

export class Progress {
  readonly mode: ProgressMode;
  private readonly stream: NodeJS.WritableStream;
  private readonly now: () => number;
  private readonly start: number;
  private readonly interval: number;
  private lastLine: number;
  private done = 0;
  private info: ProgressInfo = {};
  private bar: cliProgress.SingleBar | null = null;
  private stopped = false;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.mode = opts.mode ?? defaultProgressMode(this.stream as { isTTY?: boolean });
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.lastLine = this.start;
    this.interval = (opts.intervalSeconds ?? 10) * 1000;
    if (this.mode === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${opts.label ?? 'progress'} [{bar}] {value}/{total} | {rate} it/s | ETA {eta_formatted} | {info}`,
          stream: this.stream,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total, 0, { rate: '0', info: '' });
    }
  }

  /** Iterations per second since the start. */
  get rate(): number {
    const s = (this.now() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  /** Seconds left at the current rate. */
  get eta(): number {
    return this.rate > 0 ? (this.opts.total - this.done) / this.rate : Infinity;
  }

  update(done: number, info?: ProgressInfo): void {
    if (this.stopped) return;
    this.done = done;
    if (info) this.info = { ...this.info, ...info };
    if (this.bar) this.bar.update(done, { rate: this.rate.toFixed(2), info: formatInfo(this.info) });
    else if (this.mode === 'lines' && this.now() - this.lastLine >= this.interval) this.line();
  }

  increment(n = 1, info?: ProgressInfo): void {
    this.update(this.done + n, info);
  }

  /** Finish: the bar is completed, or a last plain line is printed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.bar) this.bar.stop();
    else if (this.mode === 'lines') this.line();
  }

  private line(): void {
    this.lastLine = this.now();
    const { total, label = 'progress' } = this.opts;
    const pct = total > 0 ? ((100 * this.done) / total).toFixed(1) : '100.0';
    const info = formatInfo(this.info);
    this.stream.write(`${label}: ${this.done}/${total} (${pct}%) ${this.rate.toFixed(2)} it/s ETA ${formatDuration(this.eta)}${info ? ` ${info}` : ''}\n`);
  }
}
