/** Reports progress of long work to whoever called it (the tools layer turns it into MCP progress notifications). */
export type ProgressReporter = (progress: number, total: number | undefined, message: string) => Promise<void>;
