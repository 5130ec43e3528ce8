// float64 references for 2-D convolution (PyTorch semantics: cross-correlation, zero padding, NCHW,
// weight [cout, cin, k, k]). Plain loops over the definition; the shape type is the kernel's own.
import { conv2dOutSize, type Conv2dShape } from '../../src/kernels/conv2d.ts';

/** y[n,co,oy,ox] = b[co] + sum_{ci,kh,kw} x[n,ci,oy*s+kh-p,ox*s+kw-p] w[co,ci,kh,kw]. */
export function conv2dRef(x: Float64Array, w: Float64Array, b: Float64Array | null, s: Conv2dShape): Float64Array {
  const { ho, wo } = conv2dOutSize(s);
  const { n, cin, h, w: wi, cout, k, stride, pad } = s;
  const y = new Float64Array(n * cout * ho * wo);
  for (let ni = 0; ni < n; ni++)
    for (let co = 0; co < cout; co++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          let acc = b ? b[co]! : 0;
          for (let ci = 0; ci < cin; ci++)
            for (let kh = 0; kh < k; kh++) {
              const iy = oy * stride + kh - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = ox * stride + kw - pad;
                if (ix < 0 || ix >= wi) continue;
                acc += x[((ni * cin + ci) * h + iy) * wi + ix]! * w[((co * cin + ci) * k + kh) * k + kw]!;
              }
            }
          y[((ni * cout + co) * ho + oy) * wo + ox] = acc;
        }
  return y;
}

/** Gradients of L = <dy, conv2d(x, w, b)>: dx, dw and db (db does not depend on whether b exists). */
export function conv2dBackwardRef(x: Float64Array, w: Float64Array, dy: Float64Array, s: Conv2dShape) {
  const { ho, wo } = conv2dOutSize(s);
  const { n, cin, h, w: wi, cout, k, stride, pad } = s;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(cout);
  for (let ni = 0; ni < n; ni++)
    for (let co = 0; co < cout; co++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          const g = dy[((ni * cout + co) * ho + oy) * wo + ox]!;
          db[co] += g;
          for (let ci = 0; ci < cin; ci++)
            for (let kh = 0; kh < k; kh++) {
              const iy = oy * stride + kh - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = ox * stride + kw - pad;
                if (ix < 0 || ix >= wi) continue;
                const xi = ((ni * cin + ci) * h + iy) * wi + ix;
                const wj = ((co * cin + ci) * k + kh) * k + kw;
                dx[xi] += g * w[wj]!;
                dw[wj] += g * x[xi]!;
              }
            }
        }
  return { dx, dw, db };
}
