// float64 references for the element-wise kernels.
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
export const siluRef = (x: Float64Array) => x.map((v) => v * sigmoid(v));
export const siluBackwardRef = (x: Float64Array, g: Float64Array) =>
  x.map((v, i) => {
    const s = sigmoid(v);
    return g[i]! * s * (1 + v * (1 - s));
  });
