import type { Logger } from '#common/logger.ts';
import type { EndpointSource } from '#server/browsers/endpoint-source.ts';
import type { BrowserRouter } from '#server/browsers/router.ts';
import type { ServerConfig } from '#server/config.ts';
import { missingComposerCredentials } from '#server/config.ts';
import type { CatalogDocuments } from '#server/mcp/catalog-resources.ts';
import { SERVER_VERSION } from '#server/mcp/server-info.ts';
import type { ComposerServices, ComposerSettings } from '#server/tools/services.ts';

/** The services the tools use, and what must be started and stopped with the process. */
export interface BuiltServices {
  services: ComposerServices;
  catalog: CatalogDocuments;
  /** The browser router when a source is configured. */
  router: BrowserRouter | undefined;
  source: EndpointSource | undefined;
  /** Settings still missing for save/get/open/preview (empty when all are set). */
  missingCredentials: string[];
  /** Starts the endpoint source and router (resolves when the first browser is ready or the router's start timeout passed). */
  start(): Promise<void>;
  /** Stops the router, then the source. Safe to call twice. */
  stop(): Promise<void>;
}

/** The Composer settings the tools see, from configuration. */
export function composerSettingsOf(config: ServerConfig): ComposerSettings {
  const c = config.composer;
  return {
    composerUrl: c.composerUrl,
    apiUrl: c.apiUrl,
    apiEnv: c.apiEnv,
    ...(c.accessToken ? { accessToken: c.accessToken } : {}),
    ...(c.projectKey ? { projectKey: c.projectKey } : {}),
    ...(c.connectorUid ? { connectorUid: c.connectorUid } : {}),
  };
}

/** The origins browser work may load: the Composer's and the storage API's. */
export function allowedOriginsOf(config: ServerConfig): string[] {
  return [...new Set([new URL(config.composer.composerUrl).origin, new URL(config.composer.apiUrl).origin])];
}

async function createSource(config: ServerConfig, logger: Logger): Promise<EndpointSource | undefined> {
  const b = config.browsers;
  switch (b.source) {
    case 'none':
      return undefined;
    case 'local': {
      const { LocalEndpointSource } = await import('#server/browsers/local-source.ts');
      return new LocalEndpointSource({ browsers: b.local.count, maxSessions: b.maxSessionsPerBrowser, logger });
    }
    case 'static': {
      const { StaticEndpointSource } = await import('#server/browsers/static-source.ts');
      return new StaticEndpointSource({ endpoints: b.static.endpoints, ...(b.static.tokenFile ? { tokenFile: b.static.tokenFile } : {}), logger });
    }
    case 'kubernetes': {
      // Loaded by name so the server builds without the operator's client code until it is there.
      const specifier = '#server/browsers/kubernetes-source.ts';
      let mod: Record<string, unknown>;
      try {
        mod = (await import(specifier)) as Record<string, unknown>;
      } catch (error) {
        throw new Error('browsers.source is "kubernetes" but this build has no Kubernetes endpoint source; use "local" or "static".', { cause: error });
      }
      const Source = mod['KubernetesEndpointSource'] as (new (options: Record<string, unknown>) => EndpointSource) | undefined;
      if (!Source) throw new Error('browsers.source is "kubernetes" but kubernetes-source.ts exports no KubernetesEndpointSource.');
      return new Source({ namespace: b.kubernetes.namespace, pool: b.kubernetes.pool, logger });
    }
  }
}

/**
 * Builds the tools' services from configuration: the storage client when the Composer credentials are all set
 * (else undefined: storage tools answer NOT_CONFIGURED naming the setting), and a browser router over the
 * configured endpoint source (none: browser tools answer NOT_CONFIGURED). Browser code is loaded only when used.
 */
export async function buildServices(config: ServerConfig, logger: Logger): Promise<BuiltServices> {
  const settings = composerSettingsOf(config);
  const missingCredentials = missingComposerCredentials(config);
  const [{ HttpStorageClient }, catalogModule] = await Promise.all([import('#server/composer/storage-client.ts'), import('#server/composer/catalog.ts')]);
  const storage = missingCredentials.length === 0 ? new HttpStorageClient(settings, { timeoutMs: config.composer.requestTimeoutMs, logger }) : undefined;
  const source = await createSource(config, logger);
  let router: BrowserRouter | undefined;
  if (source) {
    const { BrowserRouter } = await import('#server/browsers/router.ts');
    router = new BrowserRouter({
      source,
      maxSessionsPerBrowser: config.browsers.maxSessionsPerBrowser,
      prewarmPerBrowser: config.browsers.prewarmPerBrowser,
      queueMaxDepth: config.browsers.queueLimit,
      queueTimeoutMs: config.browsers.queueTimeoutMs,
      allowedOrigins: allowedOriginsOf(config),
      logger,
    });
  }
  const limits = config.composer.limits;
  const services: ComposerServices = { version: SERVER_VERSION, settings, storage, browsers: router, limits };
  let stopping: Promise<void> | undefined;
  return {
    services,
    catalog: { widgetCatalog: () => catalogModule.widgetCatalog(limits), compositionJsonSchema: () => catalogModule.compositionJsonSchema() },
    router,
    source,
    missingCredentials,
    async start() {
      // The router starts its source; it resolves once a browser is ready or its start timeout passed.
      await router?.start();
    },
    stop() {
      stopping ??= (async () => {
        try {
          await router?.stop();
        } finally {
          await source?.stop();
        }
      })();
      return stopping;
    },
  };
}
