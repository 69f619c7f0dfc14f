import { ApiException } from '@kubernetes/client-node';
import type { LeaseRecord } from '#kube/runtime/lease-decisions.ts';
import type { LeaseStore, StoredLease } from '#kube/runtime/lease-store.ts';

/** One Lease in memory with the API server's optimistic concurrency; can be told to fail. */
export class MemoryLease {
  stored: StoredLease | undefined;
  version = 0;
  failing = false;

  store(): LeaseStore {
    const fail = (): void => {
      if (this.failing) throw new ApiException(503, 'unavailable', '{"code":503,"message":"apiserver down"}', {});
    };
    return {
      description: 'ns/lease',
      get: async () => {
        fail();
        return this.stored && { record: { ...this.stored.record }, resourceVersion: this.stored.resourceVersion };
      },
      create: async (record: LeaseRecord) => {
        fail();
        if (this.stored) throw new ApiException(409, 'exists', '{"code":409,"reason":"AlreadyExists"}', {});
        this.stored = { record: { ...record }, resourceVersion: String(++this.version) };
        return this.stored.resourceVersion;
      },
      update: async (record: LeaseRecord, rv: string) => {
        fail();
        if (!this.stored || this.stored.resourceVersion !== rv) {
          throw new ApiException(409, 'conflict', '{"code":409,"reason":"Conflict"}', {});
        }
        this.stored = { record: { ...record }, resourceVersion: String(++this.version) };
        return this.stored.resourceVersion;
      },
    };
  }
}
