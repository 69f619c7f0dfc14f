import os from 'node:os';
import path from 'node:path';

/**
 * Where `make images-cluster` lists the images it built for the cluster tier (scripts/images/build.sh with
 * IMAGE_OUT): `${COMPOSER_MCP_CACHE:-~/.cache/composer-mcp}/images/cluster/images.json`.
 */
export function defaultImagesManifest(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env['COMPOSER_MCP_CACHE'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'composer-mcp');
  return path.join(cache, 'images', 'cluster', 'images.json');
}
