import type { CacheHint, McpServer } from '@modelcontextprotocol/server';

/** URI of the widget catalog resource. */
export const WIDGET_CATALOG_URI = 'composer://catalog/widgets';
/** URI of the composition JSON Schema resource. */
export const COMPOSITION_SCHEMA_URI = 'composer://schema/composition';

/** The two documents the resources serve; both generated from the composition model's zod schemas. */
export interface CatalogDocuments {
  /** The widget catalog: every widget type with its fields, constraints and an example. */
  widgetCatalog(): unknown;
  /** The JSON Schema of a whole composition. */
  compositionJsonSchema(): unknown;
}

/**
 * Registers the widget catalog and the composition JSON Schema as JSON resources. Both are generated from the code,
 * so they change only with a new version: `cacheHint` lets 2026-07-28 clients (and shared caches) keep them.
 */
export function registerCatalogResources(server: McpServer, catalog: CatalogDocuments, cacheHint: CacheHint): void {
  server.registerResource(
    'widget-catalog',
    WIDGET_CATALOG_URI,
    { title: 'Composer widget catalog', description: 'Every widget type: fields, constraints and an example (JSON).', mimeType: 'application/json', cacheHint },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(catalog.widgetCatalog(), null, 2) }] }),
  );
  server.registerResource(
    'composition-schema',
    COMPOSITION_SCHEMA_URI,
    { title: 'Composition JSON Schema', description: 'JSON Schema of a complete Composer composition document.', mimeType: 'application/schema+json', cacheHint },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/schema+json', text: JSON.stringify(catalog.compositionJsonSchema(), null, 2) }] }),
  );
}
