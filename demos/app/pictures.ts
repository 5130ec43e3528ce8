// Drawing worker pictures (RGBA grids) into canvases, scaled up without smoothing, and the reverse
// process animation: x_t frames played in a loop with the current t shown.
import type { Picture } from './protocol.ts';

/** Draw `p` into `canvas`, an integer multiple of its size that fits `maxWidth` CSS pixels. */
export function drawPicture(canvas: HTMLCanvasElement, p: Picture, maxWidth = 320): void {
  const scale = Math.max(1, Math.floor(maxWidth / p.width));
  canvas.width = p.width;
  canvas.height = p.height;
  canvas.style.width = `${p.width * scale}px`;
  canvas.style.height = `${p.height * scale}px`;
  canvas.getContext('2d')!.putImageData(new ImageData(p.rgba, p.width, p.height), 0, 0);
}

export class Animation {
  private frames: { t: number; picture: Picture }[] = [];
  private index = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly label: HTMLElement,
    private readonly frameMs = 120,
  ) {}

  /** Frames from the prior to the sample; the last frame is held a little longer. */
  play(frames: { t: number; picture: Picture }[]): void {
    this.frames = frames;
    this.index = 0;
    if (this.timer) clearInterval(this.timer);
    if (!frames.length) return;
    let hold = 0;
    this.timer = setInterval(() => {
      const f = this.frames[this.index]!;
      drawPicture(this.canvas, f.picture);
      this.label.textContent = `x_t at t = ${f.t.toFixed(2)} (${this.index + 1}/${this.frames.length})`;
      if (this.index < this.frames.length - 1) this.index++;
      else if (++hold > 10) {
        hold = 0;
        this.index = 0;
      }
    }, this.frameMs);
  }
}
