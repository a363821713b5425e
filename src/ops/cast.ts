// fl.cast: f32 <-> f16 storage. f16 tensors feed matmul operands (half the bytes to read);
// every other op computes in f32. The gradient passes through a cast unchanged, in f32, so
// an f16 copy of a weight sends its gradient to the f32 master it was cast from.
import { rt } from '../gpu/runtime.js';
import { kernelFile } from '../gpu/pipelines.js';
import { record } from '../autograd.js';
import { Tensor, type DType } from '../tensor.js';
import { assertTensor, grid1d, out, requireF16 } from './dispatch.js';
import toF16Src from '../../kernels/cast_to_f16.wgsl';
import toF32Src from '../../kernels/cast_to_f32.wgsl';

const TO_F16 = kernelFile('cast_to_f16', toF16Src);
const TO_F32 = kernelFile('cast_to_f32', toF32Src);

/** The values of x stored as `dtype` ('f16' or 'f32'); x itself when it already is. */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor(x, 'cast(x)');
  if (dtype !== 'f16' && dtype !== 'f32') throw new Error(`flstm: cast: dtype must be 'f16' or 'f32', got ${JSON.stringify(dtype)}`);
  if (x.dtype === dtype) return x;
  if (x.dtype === 'i32') throw new Error(`flstm: cast: x must be f32 or f16, got i32 ${JSON.stringify(x.shape)}`);
  requireF16('cast');
  const y = castRaw(x, dtype);
  // The gradient is f32 whichever way the cast went.
  return record(y, `cast.${dtype}`, [x], (g) => [g]);
}

export function castRaw(x: Tensor, dtype: 'f16' | 'f32'): Tensor {
  const y = out(x.shape, dtype, `cast.${dtype}`);
  const n4 = Math.ceil(x.size / 4);
  rt().run(dtype === 'f16' ? TO_F16 : TO_F32, { params: { n4 }, buffers: [x.buffer, y.buffer], workgroups: grid1d(n4) });
  return y;
}
