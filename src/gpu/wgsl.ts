// Specialises a .wgsl file with wgsl-preprocessor. The library's tagged template needs `#if ${value}`,
// which a plain file cannot contain; this adapter turns `#if FLAG` in the file into that call, so the
// file stays valid-looking WGSL and its flags are named. An unknown flag is an error, not `false`.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ShaderError } from './errors.ts';

const DIRECTIVE = /#(if|elif)[ \t]+(!?)([A-Za-z_][A-Za-z0-9_]*)/g;

export function preprocess(src: string, flags: Readonly<Record<string, boolean>> = {}, file = 'shader'): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const m of src.matchAll(DIRECTIVE)) {
    const name = m[3]!;
    if (!(name in flags)) throw new ShaderError(`${file}: preprocessor flag ${name} was not given a value`);
    strings.push(src.slice(last, m.index) + `#${m[1]} `);
    values.push(m[2] === '!' ? !flags[name] : !!flags[name]);
    last = m.index! + m[0].length;
  }
  strings.push(src.slice(last));
  return wgsl(Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray, ...values);
}
