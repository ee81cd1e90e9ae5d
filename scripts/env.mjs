// Makes sure SwiftShader is installed when no Vulkan driver is configured, and returns the environment for child
// processes (VK_ICD_FILENAMES, XDG_RUNTIME_DIR). Shipped in the npm package: the gpugrad command uses it too. On a machine with a GPU and its Vulkan driver, set
// GPUGRAD_NO_SWIFTSHADER=1 (or VK_ICD_FILENAMES yourself) to use the real driver.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** SwiftShader's Vulkan manifest in Debian's chromium-common: under .swiftshader/ once set up, or in / where the
 * package (or Chromium itself) is installed. */
const ICD = 'usr/lib/chromium/vk_swiftshader_icd.json';

export function gpuEnv() {
  const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
  if (env.VK_ICD_FILENAMES || env.GPUGRAD_NO_SWIFTSHADER || process.platform !== 'linux') return env;
  let icd = [join(root, '.swiftshader', ICD), join('/', ICD)].find((p) => existsSync(p));
  if (!icd || !hasVulkanLoader()) {
    try {
      // the script prints the ICD it installed or found on its last line
      const out = execFileSync('bash', [join(root, 'scripts/setup-swiftshader.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      icd = out.trim().split('\n').pop();
    } catch {
      process.stderr.write('gpugrad: could not install SwiftShader (see scripts/setup-swiftshader.sh); WebGPU may be unavailable\n');
      return env;
    }
  }
  env.VK_ICD_FILENAMES = icd;
  return env;
}

function hasVulkanLoader() {
  try { return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1'); } catch { return false; }
}
