import type { ToolDefinition } from './tool-definition.ts';
import type { ComposerServices } from './services.ts';
import { listWidgetsTool } from './list-widgets.ts';
import { describeWidgetTool } from './describe-widget.ts';
import { guidanceTool } from './guidance.ts';
import { buildCompositionTool } from './build-composition.ts';
import { validateCompositionTool } from './validate-composition.ts';
import { saveCompositionTool } from './save-composition.ts';
import { getCompositionTool } from './get-composition.ts';
import { openCompositionTool } from './open-composition.ts';
import { previewCompositionTool } from './preview-composition.ts';
import { statusTool } from './status.ts';

/** A tool with its precise input type, seen through the list's common type (the transport re-validates input). */
function erase<In extends ToolDefinition<ComposerServices>['inputSchema'], Out extends NonNullable<ToolDefinition<ComposerServices>['outputSchema']>>(
  tool: ToolDefinition<ComposerServices, In, Out>,
): ToolDefinition<ComposerServices> {
  return tool as unknown as ToolDefinition<ComposerServices>;
}

/**
 * Every Composer tool, in the order clients list them. A plain list: each tool lives in its own file and is added
 * here by the engineer who writes it.
 */
export function allTools(): ToolDefinition<ComposerServices>[] {
  return [
    erase(listWidgetsTool),
    erase(describeWidgetTool),
    erase(guidanceTool),
    erase(buildCompositionTool),
    erase(validateCompositionTool),
    erase(saveCompositionTool),
    erase(getCompositionTool),
    erase(openCompositionTool),
    erase(previewCompositionTool),
    erase(statusTool),
  ];
}
