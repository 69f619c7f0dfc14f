// The test node by hand (root): `up` starts it with the images of `make images-cluster` loaded and runs until
// Ctrl-C, then tears everything down; `down` removes what a killed run left behind.
// Usage: node test/support/cluster/cli.ts up [--images=<images.json>] [--tag=dev] | down
import { existsSync } from 'node:fs';
import { createLogger } from '#common/logger.ts';
import { startCluster, teardownLeftover } from './cluster.ts';
import { readBuiltImages } from './containerd-images.ts';
import { defaultImagesManifest } from './images-manifest.ts';

const logger = createLogger({ component: 'test-node' });

function option(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function up(): Promise<void> {
  const manifest = option('images') ?? defaultImagesManifest();
  const images = existsSync(manifest) ? readBuiltImages(manifest) : [];
  if (images.length === 0) logger.warn('No images to load (run make images-cluster first)', { manifest });
  const cluster = await startCluster({ logger, images, imageTags: [option('tag') ?? 'dev'] });
  process.stdout.write(`export KUBECONFIG=${cluster.kubeconfigPath}\n`);
  process.stderr.write(`Node up (${JSON.stringify(cluster.timings)}); logs in ${cluster.logsDir}. Ctrl-C stops it.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
}

function down(): void {
  const left = teardownLeftover();
  if (left.length > 0) {
    process.stderr.write(`Could not remove: ${left.join(', ')}\n`);
    process.exitCode = 1;
  }
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') down();
else {
  process.stderr.write('usage: node test/support/cluster/cli.ts up [--images=<images.json>] [--tag=<tag>] | down\n');
  process.exitCode = 2;
}
