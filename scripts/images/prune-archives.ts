// What `make images` runs after writing an image's archive (IMAGE_OUT set): every change of an image's inputs writes
// a new `<image>-<key>.tar` (350 MB to 1 GB) into the shared cache, so only the most recently used few of each image
// are kept (other checkouts sharing the cache may still load theirs) and the rest are deleted.
//   node scripts/images/prune-archives.ts <archives dir> <image name> <archive just written or used>
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** How many archives of one image are kept. */
export const ARCHIVES_KEPT_PER_IMAGE = 3;

/** An archive file in the cache directory: its name and when it was last used (its mtime; a use touches it). */
export interface ArchiveFile {
  name: string;
  usedAtMs: number;
}

/** Whether `fileName` is an archive of `image` (`<image>-<16 hex digits>.tar`), not another image's or a partial write. */
export function isArchiveOf(image: string, fileName: string): boolean {
  return fileName.startsWith(`${image}-`) && /^[0-9a-f]{16}\.tar$/.test(fileName.slice(image.length + 1));
}

/**
 * The archives of `image` to delete: all but the `keep` most recently used, newest first by use and then by name.
 * The archive in use (`current`) is always kept, even when a clock or a coarse mtime ranks it lower; files that are
 * not archives of `image` are never named.
 */
export function staleArchives(image: string, files: readonly ArchiveFile[], current: string, keep = ARCHIVES_KEPT_PER_IMAGE): string[] {
  const archives = files.filter((f) => isArchiveOf(image, f.name));
  const byRecentUse = archives.toSorted((a, b) => b.usedAtMs - a.usedAtMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const others = byRecentUse.filter((f) => f.name !== current);
  const keptOthers = archives.some((f) => f.name === current) ? keep - 1 : keep;
  return others.slice(Math.max(keptOthers, 0)).map((f) => f.name);
}

/** Deletes the stale archives of `image` in `dir` (see {@link staleArchives}); returns the names deleted. */
export function pruneArchives(dir: string, image: string, current: string, keep = ARCHIVES_KEPT_PER_IMAGE): string[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isArchiveOf(image, entry.name))
    .map((entry) => ({ name: entry.name, usedAtMs: statSync(path.join(dir, entry.name)).mtimeMs }));
  const stale = staleArchives(image, files, current, keep);
  for (const name of stale) rmSync(path.join(dir, name), { force: true });
  return stale;
}

if (import.meta.main) {
  const [dir, image, current] = process.argv.slice(2);
  if (!dir || !image || !current) {
    process.stderr.write('usage: node scripts/images/prune-archives.ts <archives dir> <image name> <archive in use>\n');
    process.exit(2);
  }
  pruneArchives(dir, image, path.basename(current));
}
