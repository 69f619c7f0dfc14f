import type { KubeConfig } from '@kubernetes/client-node';
import { kubeWriter, type KubeWriter } from '#operator/controllers/browserpool/kube-writer.ts';

/** One write an operator issued to the API server: who, what, and when it was sent and answered (performance.now). */
export interface WriteRecord {
  who: string;
  what: string;
  sentAt: number;
  answeredAt?: number;
}

/** The real writer, recording every write that reaches the API server into `log` (a fence sits outside it). */
export function recordingWriter(kc: KubeConfig, who: string, log: WriteRecord[]): KubeWriter {
  const real = kubeWriter(kc, who);
  const record = <T>(what: string, write: () => Promise<T>): Promise<T> => {
    const entry: WriteRecord = { who, what, sentAt: performance.now() };
    log.push(entry);
    return write().finally(() => {
      entry.answeredAt = performance.now();
    });
  };
  return {
    apply: (o) => record(`apply ${o.kind} ${o.metadata?.name}`, () => real.apply(o)),
    createSecret: (s) => record(`create Secret ${s.metadata?.name}`, () => real.createSecret(s)),
    annotatePod: (ns, name, a) => record(`annotate ${name}`, () => real.annotatePod(ns, name, a)),
    labelPod: (ns, name, l) => record(`label ${name}`, () => real.labelPod(ns, name, l)),
    deletePod: (ns, name, uid) => record(`delete ${name}`, () => real.deletePod(ns, name, uid)),
    deleteObject: (o) => record(`delete ${o.kind} ${o.metadata?.name}`, () => real.deleteObject(o)),
    writeStatus: (p, s) => record(`status ${p.metadata.name}`, () => real.writeStatus(p, s)),
    event: (p, type, reason, message) => record(`event ${reason}`, () => real.event(p, type, reason, message)),
  };
}

/** Writes of `oldLeader` that may have landed after `newLeader`'s first write was sent (answered later, or never). */
export function overlappingWrites(log: readonly WriteRecord[], oldLeader: string, newLeader: string): WriteRecord[] {
  const firstNew = log.find((w) => w.who === newLeader);
  if (!firstNew) return [];
  return log.filter((w) => w.who === oldLeader && (w.answeredAt === undefined || w.answeredAt > firstNew.sentAt));
}
