import path from 'node:path';
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

/** A container mapped to a local process. */
export interface LocalCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** What a container's command and environment are resolved against. */
export interface CommandContext {
  /** Repository root (where `browser/src/*-main.ts` live). */
  repoDir: string;
  /** The Node binary to run the entry points with. */
  nodePath: string;
  pod: V1Pod;
  podIP: string;
  /** Local directories standing in for the container's volume mounts: mountPath → local dir. */
  mounts: Map<string, string>;
  /** Secret data by `secretName/key` (decoded), for env `secretKeyRef`. */
  secretData: Map<string, string>;
}

/**
 * Which local program stands in for a container: the browser pod's one container (by name `browser`, or an image
 * named browser or gateway) runs the gateway, which starts Chromium itself.
 */
export function programFor(container: V1Container): 'gateway' | undefined {
  if (container.name === 'browser') return 'gateway';
  return /(^|\/)(browser|gateway)(:|@|$)/.test(container.image ?? '') ? 'gateway' : undefined;
}

function fieldValue(pod: V1Pod, podIP: string, fieldPath: string): string {
  switch (fieldPath) {
    case 'status.podIP': return podIP;
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'status.hostIP': return '127.0.0.1';
    default: return '';
  }
}

/** Rewrites a value that names a path under one of the container's mounts to the local directory. */
export function mapPath(value: string, mounts: Map<string, string>): string {
  for (const [mountPath, local] of [...mounts].toSorted(([a], [b]) => b.length - a.length)) {
    if (value === mountPath) return local;
    if (value.startsWith(`${mountPath}/`)) return path.join(local, value.slice(mountPath.length + 1));
  }
  return value;
}

/** The environment the container would see, resolved locally (downward API, secrets, mount paths mapped). */
export function resolveEnv(env: V1EnvVar[] | undefined, ctx: CommandContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    let value = e.value ?? '';
    if (e.valueFrom?.fieldRef) value = fieldValue(ctx.pod, ctx.podIP, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef) value = ctx.secretData.get(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`) ?? '';
    // $(VAR) references to earlier variables, as the kubelet expands them.
    value = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => out[name] ?? m);
    out[e.name] = mapPath(value, ctx.mounts);
  }
  return out;
}

/**
 * The local command for a container: the browser container → `node browser/src/gateway-main.ts` with the pod's env
 * (the token file path mapped to the local copy of the Secret, POD_IP the namespace address, Chromium's directories
 * in the container's /tmp stand-in); the gateway starts Chromium as its child. Throws for unknown images.
 */
export function localCommand(container: V1Container, ctx: CommandContext): LocalCommand {
  const program = programFor(container);
  if (!program) {
    throw new Error(`Pod runner cannot run container "${container.name}" (image ${container.image ?? '?'}): only the browser image maps to a local program`);
  }
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    LOG_FORMAT: 'json',
    ...resolveEnv(container.env, ctx),
  };
  const tmp = ctx.mounts.get('/tmp');
  if (tmp) {
    env['TMPDIR'] = tmp;
    env['GATEWAY_ROOT_DIR'] = tmp;
  }
  const args = (container.args ?? []).map((a) => mapPath(a, ctx.mounts));
  return { command: ctx.nodePath, args: [path.join(ctx.repoDir, 'browser/src/gateway-main.ts'), ...args], env };
}
