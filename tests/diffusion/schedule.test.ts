import { describe, expect, test } from 'vitest';
import { Schedule, defaultBlurSchedule, defaultNoiseSchedule, fillLevels, inverseVarianceWeight } from '../../src/diffusion/schedule.ts';
import { NonFiniteError, ValueError } from '../../src/gpu/errors.ts';

describe('schedules', () => {
  test('geometric: endpoints, midpoint, monotone', () => {
    const s = Schedule.geometric(0.01, 50);
    expect(s.at(0)).toBeCloseTo(0.01, 15);
    expect(s.at(1)).toBeCloseTo(50, 10);
    expect(s.at(0.5)).toBeCloseTo(Math.sqrt(0.01 * 50), 12);
    for (let t = 0; t < 1; t += 0.05) expect(s.at(t + 0.05 > 1 ? 1 : t + 0.05)).toBeGreaterThan(s.at(t));
    expect(Schedule.geometric(2, 2).at(0.3)).toBe(2);
  });

  test('piecewise linear through the given points', () => {
    const s = Schedule.piecewiseLinear([[0, 0.5], [0.25, 1], [1, 4]]);
    expect(s.at(0)).toBe(0.5);
    expect(s.at(0.125)).toBeCloseTo(0.75, 14);
    expect(s.at(0.25)).toBe(1);
    expect(s.at(0.625)).toBeCloseTo(2.5, 14);
    expect(s.at(1)).toBe(4);
    expect(Schedule.piecewiseLinear([[0, 1], [1, 1]]).at(0.7)).toBe(1);
  });

  test('JSON round trip', () => {
    for (const s of [Schedule.geometric(0.01, 0.1), Schedule.piecewiseLinear([[0, 0.01], [0.5, 2], [1, 23]])]) {
      const back = Schedule.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
      expect(back.kind).toBe(s.kind);
      for (const t of [0, 0.3, 0.5, 0.99, 1]) expect(back.at(t)).toBe(s.at(t));
    }
    expect(() => Schedule.fromJSON({ kind: 'cosine' })).toThrow(ValueError);
    expect(() => Schedule.fromJSON({ kind: 'piecewise-linear', t: [0, 1], values: [1] })).toThrow(ValueError);
  });

  test('invalid schedules and times are rejected with typed errors', () => {
    expect(() => Schedule.geometric(0, 1)).toThrow(ValueError);
    expect(() => Schedule.geometric(-1, 1)).toThrow(ValueError);
    expect(() => Schedule.geometric(2, 1)).toThrow(/non-decreasing/);
    expect(() => Schedule.geometric(NaN, 1)).toThrow(NonFiniteError);
    expect(() => Schedule.geometric(0.1, Infinity)).toThrow(NonFiniteError);
    expect(() => Schedule.piecewiseLinear([[0, 1], [1, 0.5]])).toThrow(/non-decreasing/);
    expect(() => Schedule.piecewiseLinear([[0, 0], [1, 1]])).toThrow(/> 0/);
    expect(() => Schedule.piecewiseLinear([[0, 1], [0.5, 2], [0.5, 3], [1, 4]])).toThrow(/increase/);
    expect(() => Schedule.piecewiseLinear([[0.1, 1], [1, 2]])).toThrow(/t = 0 to t = 1/);
    expect(() => Schedule.piecewiseLinear([[0, 1], [1.5, 2]])).toThrow(ValueError);
    expect(() => Schedule.piecewiseLinear([[0, 1], [NaN, 2], [1, 3]])).toThrow(NonFiniteError);
    expect(() => Schedule.piecewiseLinear([[0, 1]])).toThrow(ValueError);
    const s = Schedule.geometric(0.01, 0.1);
    expect(() => s.at(-0.01)).toThrow(ValueError);
    expect(() => s.at(1.01)).toThrow(ValueError);
    expect(() => s.at(NaN)).toThrow(NonFiniteError);
  });

  test('SPEC defaults, sigma^-2 weight, levels array', () => {
    expect(defaultBlurSchedule(64).at(1)).toBeCloseTo(23.04, 10);
    expect(defaultBlurSchedule(64).at(0)).toBeCloseTo(0.01, 14);
    expect(defaultNoiseSchedule('blur').max).toBeCloseTo(0.1, 14);
    expect(defaultNoiseSchedule('identity').max).toBeCloseTo(50, 10);
    expect(defaultNoiseSchedule('identity').min).toBeCloseTo(0.01, 14);
    expect(inverseVarianceWeight(0.5)).toBe(4);
    expect(inverseVarianceWeight(1e-4)).toBe(1e4);
    expect(() => inverseVarianceWeight(0)).toThrow(ValueError);
    const noise = Schedule.geometric(0.01, 0.1);
    const lv = fillLevels({ level: (t) => 10 * t }, noise, [0, 1], (_, s) => inverseVarianceWeight(s));
    expect(Array.from(lv)).toEqual(Array.from(Float32Array.of(0, 0, 0.01, 1e4, 1, 10, 0.1, 100)));
  });
});
