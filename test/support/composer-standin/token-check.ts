import { jwtVerify } from 'jose';

/** How the stand-in decides whether a bearer token is valid. */
export interface TokenPolicy {
  /** HS256 secret; a JWT signed with it (and not expired) is accepted. */
  jwtSecret?: string | undefined;
  /** Tokens accepted verbatim. */
  tokens?: readonly string[] | undefined;
}

/** The user a valid token stands for. */
export interface TokenUser {
  uid: string;
  name: string;
}

/** Extracts the token from `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Checks `token` against the policy; resolves the user it stands for, or undefined when it is not accepted. */
export async function checkToken(policy: TokenPolicy, token: string | undefined): Promise<TokenUser | undefined> {
  if (!token) return undefined;
  if (policy.tokens?.includes(token)) return { uid: 'standin-user', name: 'Stand-in User' };
  if (!policy.jwtSecret) return undefined;
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(policy.jwtSecret), { algorithms: ['HS256'] });
    return { uid: typeof payload.sub === 'string' ? payload.sub : 'standin-user', name: typeof payload['name'] === 'string' ? payload['name'] : 'Stand-in User' };
  } catch {
    return undefined;
  }
}
