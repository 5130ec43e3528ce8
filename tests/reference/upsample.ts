// float64 references for nearest 2x upsampling: x [n, c, h, w] -> y [n, c, 2h, 2w].
export interface UpsampleRefShape {
  n: number;
  c: number;
  h: number;
  w: number;
}

export function upsample2xRef(x: Float64Array, s: UpsampleRefShape): Float64Array {
  const { n, c, h, w } = s;
  const y = new Float64Array(4 * n * c * h * w);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < 2 * h; oy++)
      for (let ox = 0; ox < 2 * w; ox++) y[(p * 2 * h + oy) * 2 * w + ox] = x[(p * h + (oy >> 1)) * w + (ox >> 1)]!;
  return y;
}

/** dx = sum over each 2x2 block of dy. */
export function upsample2xBackwardRef(dy: Float64Array, s: UpsampleRefShape): Float64Array {
  const { n, c, h, w } = s;
  const dx = new Float64Array(n * c * h * w);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < 2 * h; oy++)
      for (let ox = 0; ox < 2 * w; ox++) dx[(p * h + (oy >> 1)) * w + (ox >> 1)] += dy[(p * 2 * h + oy) * 2 * w + ox]!;
  return dx;
}
