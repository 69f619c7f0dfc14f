import { expect } from 'chai';
import { ConfigError, loadConfig } from '#common/config.ts';
import { createLogger } from '#common/logger.ts';
import { SERVER_ENV_PREFIX, serverConfigSchema } from '#server/config.ts';
import { KubernetesIdempotencyStore } from '#server/composer/storage/kubernetes-idempotency-store.ts';
import { buildIdempotencyStore } from '#server/services-factory.ts';

const logger = createLogger({ component: 'test', level: 'error' });
const configFrom = (env: Record<string, string>) => loadConfig(serverConfigSchema, { envPrefix: SERVER_ENV_PREFIX, env, argv: [] });

describe('composer.idempotency configuration', () => {
  it('defaults to the per-process memory store with a 24 h TTL', async () => {
    const config = configFrom({});
    expect(config.composer.idempotency).to.deep.equal({ store: 'memory', ttlSeconds: 86400, sweepIntervalSeconds: 600, maxRecords: 10_000 });
    expect(await buildIdempotencyStore(config, logger, { POD_NAMESPACE: 'tools' })).to.equal(undefined);
  });

  it('builds the Kubernetes store in POD_NAMESPACE, or the namespace setting when given', async () => {
    const fromPod = await buildIdempotencyStore(configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'kubernetes' }), logger, { POD_NAMESPACE: 'tools' });
    expect(fromPod).to.be.instanceOf(KubernetesIdempotencyStore);
    const config = configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'kubernetes', COMPOSER_MCP_COMPOSER__IDEMPOTENCY__NAMESPACE: 'saves', COMPOSER_MCP_COMPOSER__IDEMPOTENCY__TTL_SECONDS: '3600' });
    expect(config.composer.idempotency).to.include({ namespace: 'saves', ttlSeconds: 3600 });
    expect(await buildIdempotencyStore(config, logger, {})).to.be.instanceOf(KubernetesIdempotencyStore);
  });

  it('caps the records at composer.idempotency.maxRecords (positive)', async () => {
    const config = configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'kubernetes', COMPOSER_MCP_COMPOSER__IDEMPOTENCY__MAX_RECORDS: '4000' });
    expect(config.composer.idempotency.maxRecords).to.equal(4000);
    expect((await buildIdempotencyStore(config, logger, { POD_NAMESPACE: 'tools' }))?.limit).to.equal(4000);
    expect(() => configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__MAX_RECORDS: '0' })).to.throw(ConfigError, /composer\.idempotency\.maxRecords/);
  });

  it('refuses the Kubernetes store without a namespace, naming both ways to set one', async () => {
    const config = configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'kubernetes' });
    const error = await buildIdempotencyStore(config, logger, {}).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).to.include('composer.idempotency.namespace').and.to.include('POD_NAMESPACE');
  });

  it('refuses an unknown store name and a zero TTL, naming the field', () => {
    expect(() => configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__STORE: 'redis' })).to.throw(ConfigError, /composer\.idempotency\.store/);
    expect(() => configFrom({ COMPOSER_MCP_COMPOSER__IDEMPOTENCY__TTL_SECONDS: '0' })).to.throw(ConfigError, /composer\.idempotency\.ttlSeconds/);
  });
});
