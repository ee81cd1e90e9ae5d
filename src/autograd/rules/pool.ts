/**
 * Max pooling's rules, and dropout's. The pooling pair maxPool2dBackward/poolGather are each other's adjoint; dropout's
 * rule is dropout with the same seed (the mask is never stored).
 */
import type { Pool2dGeom } from '../../kernels/backend.js';
import { dropoutWithSeed } from '../../tensor/ops/dropout.js';
import { maxPool2dBackward, poolGather } from '../../tensor/ops/pool.js';
import type { Tensor } from '../../tensor/tensor.js';
import { defineRule } from './registry.js';

const poolOf = (saved: Readonly<Record<string, unknown>>) => [saved.geom as Pool2dGeom, saved.indices as Tensor] as const;

defineRule('maxPool2d', (g, { saved }) => [maxPool2dBackward(g, poolOf(saved)[1], poolOf(saved)[0])]);
defineRule('maxPool2dBackward', (g, { saved }) => [poolGather(g, poolOf(saved)[1], poolOf(saved)[0])]);
defineRule('poolGather', (g, { saved }) => [maxPool2dBackward(g, poolOf(saved)[1], poolOf(saved)[0])]);

defineRule('dropout', (g, { saved }) => [dropoutWithSeed(g, saved.p as number, saved.seed as [number, number])]);
