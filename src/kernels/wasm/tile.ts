/**
 * The matmul micro-kernel's register tile, shared by the kernel generators and the packing: MR rows × VN vectors.
 * 4 × 2 vectors (8 × 4 float32 or 4 × 2 float64 lanes): 8 accumulators + 2 B vectors + 1 splat fit the 16 SIMD
 * registers of x86-64 and ARM64 without spilling. 6 rows (12 accumulators) measured no faster here (64×400×512:
 * 0.9–1.0 ms at 4 rows, 1.2–1.3 ms at 6, one thread, same load).
 */
import { type Float, laneCount } from './emit.js';

export const MR = 4;
export const VN = 2;
/** Columns of one B panel for a lane type. */
export const nr = (t: Float) => VN * laneCount(t);
