import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { isArchiveOf, pruneArchives, staleArchives } from '../../../scripts/images/prune-archives.ts';

/** A 16-hex-digit cache key ending in `n`. */
const key = (n: number) => n.toString(16).padStart(16, '0');
const archive = (image: string, n: number) => `${image}-${key(n)}.tar`;

describe('make images keeps the three most recently used archives of each image (scripts/images/prune-archives.ts)', () => {
  it('deletes all but the three most recently used archives, oldest use first out', () => {
    const files = [1, 2, 3, 4, 5].map((n) => ({ name: archive('server', n), usedAtMs: n * 1_000 }));
    expect(staleArchives('server', files, archive('server', 5))).to.deep.equal([archive('server', 2), archive('server', 1)]);
  });

  it('deletes nothing while an image has three archives or fewer', () => {
    const files = [1, 2, 3].map((n) => ({ name: archive('server', n), usedAtMs: n }));
    expect(staleArchives('server', files, archive('server', 3))).to.deep.equal([]);
    expect(staleArchives('server', [], archive('server', 3))).to.deep.equal([]);
  });

  it('ranks by use, not by name: an old archive used again stays, a newer one unused since goes', () => {
    const files = [
      { name: archive('server', 1), usedAtMs: 9_000 },
      { name: archive('server', 2), usedAtMs: 2_000 },
      { name: archive('server', 3), usedAtMs: 3_000 },
      { name: archive('server', 4), usedAtMs: 4_000 },
    ];
    expect(staleArchives('server', files, archive('server', 1))).to.deep.equal([archive('server', 2)]);
  });

  it('always keeps the archive in use, even when its time ranks it below three others (a coarse mtime, a clock step)', () => {
    const files = [1, 2, 3, 4].map((n) => ({ name: archive('browser', n), usedAtMs: n === 1 ? 0 : 5_000 }));
    const stale = staleArchives('browser', files, archive('browser', 1));
    expect(stale).to.not.include(archive('browser', 1));
    expect(stale).to.have.length(1);
  });

  it('breaks a tie of times by name, so the same files always give the same answer', () => {
    const files = [4, 1, 3, 2, 5].map((n) => ({ name: archive('server', n), usedAtMs: 1_000 }));
    expect(staleArchives('server', files, archive('server', 1))).to.deep.equal([archive('server', 4), archive('server', 5)]);
  });

  it('never counts or deletes another image\'s archives, partial writes or other files', () => {
    const files = [
      ...[1, 2, 3, 4].map((n) => ({ name: archive('server', n), usedAtMs: n })),
      { name: archive('operator', 0), usedAtMs: 0 },
      { name: `server-extra-${key(9)}.tar`, usedAtMs: 0 },
      { name: `${archive('server', 7)}.tmp.4242`, usedAtMs: 0 },
      { name: 'server-notes.tar', usedAtMs: 0 },
    ];
    expect(staleArchives('server', files, archive('server', 4))).to.deep.equal([archive('server', 1)]);
    expect(isArchiveOf('server', archive('server', 1))).to.equal(true);
    expect(isArchiveOf('server', `server-extra-${key(9)}.tar`)).to.equal(false);
    expect(isArchiveOf('server', archive('operator', 1))).to.equal(false);
  });

  it('in a directory: deletes by file modification time and leaves the rest there', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'composer-mcp-archives-'));
    try {
      for (const n of [1, 2, 3, 4, 5]) {
        writeFileSync(path.join(dir, archive('server', n)), 'x');
        utimesSync(path.join(dir, archive('server', n)), n * 1_000, n * 1_000);
      }
      writeFileSync(path.join(dir, archive('browser', 1)), 'x');
      utimesSync(path.join(dir, archive('browser', 1)), 1, 1);
      expect(pruneArchives(dir, 'server', archive('server', 5)).toSorted()).to.deep.equal([archive('server', 1), archive('server', 2)]);
      expect(readdirSync(dir).toSorted()).to.deep.equal([archive('browser', 1), archive('server', 3), archive('server', 4), archive('server', 5)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
