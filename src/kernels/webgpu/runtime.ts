/**
 * The WebGPU runtime: owns the GPU object (Dawn's instance under Node, navigator.gpu in a page: the platform gives
 * it, see src/core/platform.ts), adapter and device; caches pipelines; pools buffers; and records consecutive
 * dispatches into one command encoder (one compute pass) that is submitted only at a sync point (a readback, an
 * upload into a buffer the open batch uses) or when the batch fills — never once per op.
 *
 * Why the GPU object lives here: under Node, the object returned by `webgpu`'s `create()` must stay strongly
 * referenced while any adapter or device from it is alive. If V8 collects it, Dawn's event pump touches freed memory
 * and the process dies at random after busy JavaScript. `shutdown()` releases it on purpose so Node can exit.
 */
import { GpugradError } from '../../core/errors.js';
import { platform } from '../../core/platform.js';
import { type KernelProgram, PARAM_WORDS, type UniformValues, workgroupsFor } from '../wgsl/program.js';
import { BufferPool, type PooledBuffer } from './pool.js';

const SLOTS = 1024; // parameter blocks (and so dispatches) per batch
const SLOT_BYTES = PARAM_WORDS * 4;
const WG_MAX = 65535;
const BIND_GROUP_CACHE = 8192;
/** GPUGRAD_DEBUG=1 prints every dispatch (kernel, grid, first parameters) and every submit to stderr; read when a
 * runtime is created, after the entry point installed its host. */
let DEBUG = false;

export interface AdapterDescription {
  vendor: string; architecture: string; device: string; description: string;
}

export class Runtime {
  /** strongly held: see the file comment */
  private gpu: GPU | null;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: AdapterDescription;
  readonly storage: BufferPool;
  private staging: BufferPool;
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<string, GPUPipelineLayout>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private paramBuf: GPUBuffer;
  private paramHost = new Uint32Array(SLOTS * PARAM_WORDS);
  private paramF32 = new Float32Array(this.paramHost.buffer);
  private slot = 0;
  /** incremented at every submit; buffers remember the batch that last used them */
  batchId = 0;
  private firstError: string | null = null;
  private laterErrors = 0;
  private lostReason: string | null = null;
  private pendingFlush: Promise<void> | null = null;
  private uploadsInFlight: GPUBuffer[] = [];

  stats = { dispatches: 0, submits: 0, pipelinesCompiled: 0, readbacks: 0, bindGroupsCreated: 0 };
  private bindGroups = new Map<string, GPUBindGroup>();

  private constructor(gpu: GPU, adapter: GPUAdapter, device: GPUDevice) {
    this.gpu = gpu;
    this.adapter = adapter;
    this.device = device;
    const i = adapter.info;
    this.info = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description };
    const S = GPUBufferUsage;
    const L = device.limits;
    const bindable = L.maxStorageBufferBindingSize < L.maxBufferSize;
    this.storage = new BufferPool(device, S.STORAGE | S.COPY_SRC | S.COPY_DST, 'storage',
      Math.min(L.maxBufferSize, L.maxStorageBufferBindingSize), bindable ? 'maxStorageBufferBindingSize' : 'maxBufferSize');
    this.staging = new BufferPool(device, S.MAP_READ | S.COPY_DST, 'staging', L.maxBufferSize);
    this.paramBuf = device.createBuffer({ size: SLOTS * SLOT_BYTES, usage: S.UNIFORM | S.COPY_DST, label: 'params' });
    // The first error since the last sync is the cause; the ones after it are mostly its echoes ("[Invalid
    // CommandBuffer] is invalid due to a previous error"), so the first is kept and the others only counted.
    device.addEventListener('uncapturederror', (e) => {
      e.preventDefault?.();
      const message = (e as GPUUncapturedErrorEvent).error.message;
      if (this.firstError === null) this.firstError = message; else this.laterErrors++;
      if (DEBUG) platform().warn(`gpugrad: device error: ${message}`);
    });
    void device.lost.then((info) => {
      if (this.gpu === null) return; // our own shutdown
      this.lostReason = `${info.reason}: ${info.message}`;
      platform().warn(`gpugrad: the WebGPU device was lost (${this.lostReason})`);
    });
  }

  /** Creates the runtime from the host's WebGPU (Dawn under Node, navigator.gpu in a page), or returns null with
   * the reason when there is no adapter. */
  static async create(): Promise<{ runtime: Runtime | null; reason?: string }> {
    DEBUG = (platform().env('GPUGRAD_DEBUG') ?? '0') !== '0';
    const got = await platform().requestGPU();
    if (!('gpu' in got)) return { runtime: null, reason: got.reason };
    const gpu = got.gpu;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      return { runtime: null, reason: platform().name === 'node' ? 'Dawn found no WebGPU adapter (no Vulkan driver)' : 'navigator.gpu offered no adapter' };
    }
    const want = (n: keyof GPUSupportedLimits) => adapter.limits[n] as number;
    const requiredFeatures: GPUFeatureName[] = [];
    if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBuffersPerShaderStage: want('maxStorageBuffersPerShaderStage'),
        maxComputeWorkgroupStorageSize: want('maxComputeWorkgroupStorageSize'),
        maxStorageBufferBindingSize: want('maxStorageBufferBindingSize'),
        maxBufferSize: want('maxBufferSize'),
        maxComputeInvocationsPerWorkgroup: want('maxComputeInvocationsPerWorkgroup'),
        maxComputeWorkgroupSizeX: want('maxComputeWorkgroupSizeX'),
      },
    });
    return { runtime: new Runtime(gpu, adapter, device) };
  }

  describe(): string {
    const i = this.info;
    return `WebGPU: ${[i.vendor, i.architecture, i.description || i.device].filter(Boolean).join(' / ')}`;
  }

  get isSwiftShader(): boolean { return this.info.architecture === 'swiftshader'; }
  /** A software adapter by Dawn's own account (GPUAdapterInfo.isFallbackAdapter where the bindings expose it). */
  get isFallback(): boolean { return (this.adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true; }

  private layoutFor(inputs: number, outputs: number): GPUPipelineLayout {
    const key = `${inputs}:${outputs}`;
    let pl = this.pipelineLayouts.get(key);
    if (pl) return pl;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
    ];
    for (let i = 0; i < inputs; i++) {
      entries.push({ binding: 1 + i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
    }
    for (let i = 0; i < outputs; i++) {
      entries.push({ binding: 1 + inputs + i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
    }
    const bgl = this.device.createBindGroupLayout({ entries, label: `layout ${key}` });
    this.layouts.set(key, bgl);
    pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
    this.pipelineLayouts.set(key, pl);
    return pl;
  }

  pipeline(program: KernelProgram): GPUComputePipeline {
    let p = this.pipelines.get(program.key);
    if (p) return p;
    const module = this.device.createShaderModule({ code: program.source, label: program.key });
    p = this.device.createComputePipeline({
      layout: this.layoutFor(program.inputs, program.outputs),
      compute: { module, entryPoint: 'main' },
      label: program.key,
    });
    this.pipelines.set(program.key, p);
    this.stats.pipelinesCompiled++;
    return p;
  }

  /** Number of workgroups along x and y for `groups` workgroups in all (2-D grid beyond 65 535). */
  static grid(groups: number): [number, number] {
    if (groups <= WG_MAX) return [Math.max(groups, 1), 1];
    const y = Math.ceil(groups / WG_MAX);
    return [Math.ceil(groups / y), y];
  }

  /**
   * Records one dispatch of `program` over `units` of work (workgroups follow from the program's dispatch rule).
   * `uniforms` fills the parameter block by name (f32 uniforms as float bits, the others as u32 — negative integers
   * as i32 bits); an array fills a multi-word uniform, missing words with 0.
   */
  dispatch<U extends string>(program: KernelProgram<U>, buffers: PooledBuffer[], uniforms: UniformValues<U>, units: number): void {
    if (buffers.length !== program.inputs + program.outputs) {
      throw new GpugradError(`internal: kernel ${program.key} takes ${program.inputs + program.outputs} buffers, got ${buffers.length}`);
    }
    const pipeline = this.pipeline(program);
    if (this.slot === SLOTS) this.flush();
    this.writeUniforms(program, uniforms, this.slot * PARAM_WORDS);
    for (const b of buffers) b.lastBatch = this.batchId;
    const bindGroup = this.bindGroup(program, buffers);
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [this.slot * SLOT_BYTES]);
    this.slot++;
    const [x, y] = Runtime.grid(workgroupsFor(program, units));
    pass.dispatchWorkgroups(x, y, 1);
    this.stats.dispatches++;
    if (DEBUG) {
      const named = program.uniforms.map((s) => `${s.name}=${String((uniforms as Record<string, unknown>)[s.name])}`);
      platform().warn(`gpugrad: dispatch ${program.key} [${x},${y}] ${named.join(' ')}`);
    }
  }

  private writeUniforms<U extends string>(program: KernelProgram<U>, uniforms: UniformValues<U>, base: number): void {
    for (const s of program.uniforms) {
      const v = (uniforms as Record<string, number | readonly number[] | undefined>)[s.name];
      if (v === undefined) throw new GpugradError(`internal: kernel ${program.key} needs the uniform '${s.name}'`);
      const words = s.float ? this.paramF32 : this.paramHost;
      const at = base + s.word;
      if (typeof v === 'number') {
        words[at] = s.float ? v : v >>> 0;
      } else {
        for (let i = 0; i < s.length; i++) words[at + i] = s.float ? (v[i] ?? 0) : (v[i] ?? 0) >>> 0;
      }
    }
  }

  /**
   * Bind groups are cached by layout and buffer identity: the parameter block is bound with a dynamic offset, so a
   * training loop — whose pool hands out the same buffers every step — creates no bind groups after its first step
   * (createBindGroup costs more than the dispatch itself: bench/RESULTS.md, "Measurements behind design choices").
   */
  private bindGroup(program: KernelProgram, buffers: PooledBuffer[]): GPUBindGroup {
    let key = `${program.inputs}:${program.outputs}`;
    for (const b of buffers) key += `:${b.id}`;
    let bg = this.bindGroups.get(key);
    if (bg) return bg;
    if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramBuf, offset: 0, size: SLOT_BYTES } }];
    buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer } }));
    this.layoutFor(program.inputs, program.outputs);
    bg = this.device.createBindGroup({ layout: this.layouts.get(`${program.inputs}:${program.outputs}`)!, entries });
    this.bindGroups.set(key, bg);
    this.stats.bindGroupsCreated++;
    return bg;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.pass) { this.pass.end(); this.pass = null; }
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  copy(src: PooledBuffer, dst: PooledBuffer, bytes: number, srcOffset = 0, dstOffset = 0): void {
    src.lastBatch = dst.lastBatch = this.batchId;
    this.commandEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
  }

  /** Submits the open batch, if any. */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) { this.pass.end(); this.pass = null; }
    if (this.slot > 0) this.device.queue.writeBuffer(this.paramBuf, 0, this.paramHost, 0, this.slot * PARAM_WORDS);
    this.device.queue.submit([this.encoder.finish()]);
    for (const b of this.uploadsInFlight) b.destroy(); // freed by Dawn once the submitted copy has run
    this.uploadsInFlight = [];
    this.encoder = null;
    this.slot = 0;
    this.batchId++;
    this.stats.submits++;
    if (DEBUG) platform().warn(`gpugrad: submit #${this.stats.submits}`);
  }

  /**
   * Writes host data into a pooled buffer. `queue.writeBuffer` runs before anything still recorded in the open batch,
   * so when that batch uses the buffer (a reused pool buffer some recorded kernel still reads), the data goes through a
   * mapped staging buffer and a copy recorded in order — the batch stays one submit.
   */
  write(dst: PooledBuffer, data: ArrayBufferView, dstOffset = 0): void {
    if (dst.lastBatch !== this.batchId || !this.encoder) {
      this.device.queue.writeBuffer(dst.buffer, dstOffset, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    const size = Math.ceil(data.byteLength / 4) * 4;
    const stage = this.device.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(stage.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    stage.unmap();
    this.commandEncoder().copyBufferToBuffer(stage, 0, dst.buffer, dstOffset, size);
    this.uploadsInFlight.push(stage);
  }

  /** Copies `bytes` of a buffer back to the host (submits the open batch). */
  async read(src: PooledBuffer, bytes: number): Promise<ArrayBuffer> {
    const stage = this.staging.acquire(bytes);
    const size = Math.ceil(bytes / 4) * 4;
    if (size > 0) this.copy(src, stage, size);
    // Reads started in the same tick (Promise.all over many tensors) share one submit.
    await (this.pendingFlush ??= Promise.resolve().then(() => { this.pendingFlush = null; this.flush(); }));
    this.stats.readbacks++;
    await stage.buffer.mapAsync(GPUMapMode.READ, 0, stage.bytes);
    const out = stage.buffer.getMappedRange(0, stage.bytes).slice(0, bytes);
    stage.buffer.unmap();
    this.staging.release(stage);
    this.throwIfError();
    return out;
  }

  /** Waits until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfError();
  }

  /**
   * Surfaces a device error at the sync after the work that caused it (Dawn reports validation errors asynchronously).
   * The message is Dawn's own, which names the object by its label: the kernel (pipelines are labelled with their
   * key) or the buffer. Buffer sizes are checked before Dawn sees them (BufferPool), so the usual cause never gets here.
   */
  private throwIfError(): void {
    if (this.firstError === null) return;
    const msg = this.firstError.trim(), more = this.laterErrors;
    this.firstError = null;
    this.laterErrors = 0;
    throw new GpugradError(`webgpu: the device rejected work recorded since the last sync: ${msg}` +
      (more ? `\n(and ${more} later error${more > 1 ? 's' : ''} caused by it)` : '') +
      '\nThe results of that work are lost; the device itself is still usable.');
  }

  /** Destroys pooled buffers that nobody holds (after waiting for the queue). */
  async trim(): Promise<void> {
    await this.sync();
    this.bindGroups.clear();
    this.storage.trim();
    this.staging.trim();
  }

  /** Releases the device and the Dawn instance so that Node can exit. The runtime is unusable afterwards. */
  shutdown(): void {
    if (!this.gpu) return;
    this.flush();
    this.device.destroy();
    this.gpu = null;
  }

  get isShutDown(): boolean { return this.gpu === null; }
}
