import path from 'node:path';

interface Stage {
  name: string | undefined;
  workdir: string;
  /** Build-context sources copied into this stage, with the absolute in-image path each landed at. */
  contextCopies: Array<{ source: string; destination: string }>;
  /** Sources copied into this stage from another stage: [stage name, absolute path in that stage]. */
  stageCopies: Array<{ from: string; source: string }>;
}

function parseStages(dockerfile: string): Stage[] {
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim());
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from !== null) {
      stages.push({ name: from[1], workdir: '/', contextCopies: [], stageCopies: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) continue;
    const workdir = /^WORKDIR\s+(\S+)/i.exec(line);
    if (workdir !== null) stage.workdir = path.posix.resolve(stage.workdir, workdir[1]!);
    const copy = /^(?:COPY|ADD)\s+(.*)$/i.exec(line);
    if (copy === null) continue;
    const args = copy[1]!.trim();
    const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
    const fromStage = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const destination = path.posix.resolve(stage.workdir, paths.at(-1)!);
    for (const source of paths.slice(0, -1)) {
      if (fromStage === undefined) stage.contextCopies.push({ source: normalise(source), destination });
      else stage.stageCopies.push({ from: fromStage, source: path.posix.resolve(stage.workdir, source) });
    }
  }
  return stages;
}

function normalise(source: string): string {
  const trimmed = source.replace(/^\.\//, '').replace(/\/+$/, '');
  return trimmed === '' ? '.' : trimmed;
}

/**
 * The build-context sources (repository-relative, without `./` or a trailing slash; `.` for the whole context)
 * whose content ends up in a Dockerfile's final stage: its own COPY/ADD lines, plus the files it copies
 * `--from=` an earlier stage of the same Dockerfile that that stage had itself copied from the context
 * (e.g. package.json copied into the build stage's WORKDIR for `npm ci`, then into the runtime stage).
 */
export function finalStageContextCopies(dockerfile: string): string[] {
  const stages = parseStages(dockerfile);
  const final = stages.at(-1);
  if (final === undefined) return [];
  const sources = final.contextCopies.map((c) => c.source);
  for (const { from, source } of final.stageCopies) {
    const stage = stages.find((s) => s.name === from);
    if (stage === undefined) continue;
    for (const copy of stage.contextCopies) {
      // A single file copied into a directory lands at <destination>/<basename>.
      const landed = path.posix.join(copy.destination, path.posix.basename(copy.source));
      if (landed === source || landed.startsWith(`${source}/`)) sources.push(copy.source);
    }
  }
  return sources;
}

/** Whether a repository-relative file path is one of the copied sources or lies under a copied directory. */
export function isCopied(relativeFile: string, sources: readonly string[]): boolean {
  return sources.some((s) => s === '.' || relativeFile === s || relativeFile.startsWith(`${s}/`));
}
