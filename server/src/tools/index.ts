import type { ToolDefinition } from './tool-definition.ts';
import type { ComposerServices } from './services.ts';

/**
 * Every Composer tool, in the order clients list them. A plain list: each tool lives in its own file and is added
 * here by the engineer who writes it.
 */
export function allTools(): ToolDefinition<ComposerServices>[] {
  return [];
}
