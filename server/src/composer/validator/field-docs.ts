import type { z } from 'zod';

type Def = { type?: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function ownDescription(schema: z.ZodType): string | undefined {
  return (schema as { description?: string }).description;
}

/**
 * The documented description of the field at `path` inside `schema` (objects, arrays, optional/nullable/default
 * wrappers), or undefined when the path leaves the schema. Used to make "missing field" fixes say what to write.
 */
export function fieldDescription(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let current: z.ZodType | undefined = schema;
  let description: string | undefined;
  for (let i = 0; i <= path.length && current; ) {
    description = ownDescription(current) ?? description;
    const def = defOf(current);
    if (def.innerType && (def.type === 'optional' || def.type === 'nullable' || def.type === 'default')) {
      current = def.innerType;
      continue;
    }
    if (i === path.length) break;
    const step = path[i];
    i += 1;
    description = undefined;
    if (def.type === 'object' && typeof step === 'string') current = def.shape?.[step];
    else if (def.type === 'array' && typeof step === 'number') current = def.element;
    else current = undefined;
  }
  return current ? description : undefined;
}
