import type { ComposerStandin } from './standin.ts';

/** The Composer credentials a server under test is given (the stand-in accepts them). */
export interface StandinCredentials {
  accessToken: string;
  /** Default `project-key-1`. */
  projectKey?: string;
}

/**
 * The environment that points a server process at the stand-in: its app and API URLs, the credentials, and
 * connector `connector-1`. Tests add their own browser and other settings beside it.
 */
export function standinServerEnv(standin: ComposerStandin, credentials: StandinCredentials): Record<string, string> {
  return {
    COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl,
    COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
    COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: credentials.accessToken,
    COMPOSER_MCP_COMPOSER__PROJECT_KEY: credentials.projectKey ?? 'project-key-1',
    COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'connector-1',
  };
}
