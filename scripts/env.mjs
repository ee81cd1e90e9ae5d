// Makes sure SwiftShader is installed when no Vulkan driver is configured, and returns the environment for child
// processes (VK_ICD_FILENAMES, XDG_RUNTIME_DIR). On a machine with a GPU and its Vulkan driver, set
// GPUGRAD_NO_SWIFTSHADER=1 (or VK_ICD_FILENAMES yourself) to use the real driver.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function gpuEnv() {
  const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
  if (env.VK_ICD_FILENAMES || env.GPUGRAD_NO_SWIFTSHADER || process.platform !== 'linux') return env;
  const icd = join(root, '.swiftshader/usr/lib/chromium/vk_swiftshader_icd.json');
  if (!existsSync(icd) || !hasVulkanLoader()) {
    try {
      execFileSync('bash', [join(root, 'scripts/setup-swiftshader.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
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
