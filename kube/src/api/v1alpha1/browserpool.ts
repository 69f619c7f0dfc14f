// BrowserPool v1alpha1: the TypeScript face of crds/browser.composer-mcp.io_browserpools.yaml.
// Keep the two in step: every field here has a schema (with description, default and validation) there.
import type {
  V1Affinity,
  V1EnvVar,
  V1LabelSelector,
  V1ObjectMeta,
  V1ResourceRequirements,
  V1Toleration,
} from '@kubernetes/client-node';

/** API group of BrowserPool. */
export const BROWSERPOOL_GROUP = 'browser.composer-mcp.io';
/** API version of BrowserPool served and stored. */
export const BROWSERPOOL_VERSION = 'v1alpha1';
/** `apiVersion` field value: `browser.composer-mcp.io/v1alpha1`. */
export const BROWSERPOOL_API_VERSION = `${BROWSERPOOL_GROUP}/${BROWSERPOOL_VERSION}`;
/** Plural resource name (URL path segment). */
export const BROWSERPOOL_PLURAL = 'browserpools';
/** Singular resource name. */
export const BROWSERPOOL_SINGULAR = 'browserpool';
/** Kind. */
export const BROWSERPOOL_KIND = 'BrowserPool';
/** Short name for kubectl (`kubectl get bp`). */
export const BROWSERPOOL_SHORT_NAME = 'bp';
/** Name of the CustomResourceDefinition object. */
export const BROWSERPOOL_CRD_NAME = `${BROWSERPOOL_PLURAL}.${BROWSERPOOL_GROUP}`;

/** Default image of a browser pod's one container: the CDP gateway with chromium-headless-shell as its child. */
export const DEFAULT_BROWSER_IMAGE = 'ghcr.io/composer-mcp/browser:0.1.0';
/**
 * Where the Localhost seccomp profile of a sandboxed pool (`spec.browser.sandbox`) is found by default, relative to
 * the kubelet's seccomp directory (`<kubelet root>/seccomp/`, usually /var/lib/kubelet/seccomp): the chart ships it
 * as files/seccomp/chromium-sandbox.json.
 */
export const DEFAULT_SANDBOX_SECCOMP_PROFILE = 'composer-mcp/chromium-sandbox.json';
/** Most entries of `spec.egress.allowedOrigins`. */
export const MAX_ALLOWED_ORIGINS = 16;
/** Longest BrowserPool name the CRD accepts, so names derived from it (pods, labels) stay within 63 characters. */
export const BROWSERPOOL_MAX_NAME_LENGTH = 52;

/** The defaults the API server applies to a BrowserPool spec (mirrors the CRD schema's `default`s). */
export const BROWSERPOOL_DEFAULTS = {
  replicas: 2,
  maxSessionsPerBrowser: 4,
  autoscaling: { minReplicas: 1, minIdle: 1, targetSessionsPerBrowser: 3, scaleDownStabilizationWindowSeconds: 60 },
  gateway: { port: 9222 },
  recycle: { maxAgeSeconds: 3600, drainTimeoutSeconds: 300, unhealthyAfterSeconds: 60, maxLeases: 0 },
} as const;

/** Lifecycle state of one browser in `status.browsers`. */
export type BrowserState = 'Starting' | 'Ready' | 'Draining' | 'Failed';

/** Every BrowserState, in lifecycle order. */
export const BROWSER_STATES: readonly BrowserState[] = ['Starting', 'Ready', 'Draining', 'Failed'];

/**
 * Built-in demand-driven autoscaling: ceil((leased + queued) / targetSessionsPerBrowser) busy browsers plus
 * `minIdle` idle ones, within [minReplicas, maxReplicas]; scaled down only to the highest recommendation of the last
 * `scaleDownStabilizationWindowSeconds` (as the HorizontalPodAutoscaler's `behavior.scaleDown`).
 */
export interface BrowserPoolAutoscaling {
  /** Fewest browsers, busy or idle (default 1, >= 0; 0 with minIdle 0 lets the pool scale to zero). */
  minReplicas: number;
  /** Most browsers (>= 1, >= minReplicas). */
  maxReplicas: number;
  /** Ready idle browsers kept on top of the busy ones (default 1, 0..maxReplicas). */
  minIdle?: number;
  /** Leased sessions per busy browser the autoscaler packs to (default 3, 1..maxSessionsPerBrowser). */
  targetSessionsPerBrowser: number;
  /**
   * Scale down only to the highest recommendation of this many seconds past (default 60, 0..3600; 0: at once); scale-up
   * is never delayed. Optional so specs written before it existed still type-check.
   */
  scaleDownStabilizationWindowSeconds?: number;
}

/** The browser pod's one container: the gateway, which runs Chromium as its child over a DevTools pipe. */
export interface BrowserPoolBrowser {
  /** Image (default DEFAULT_BROWSER_IMAGE). */
  image: string;
  /** Extra Chromium flags (never the DevTools, proxy, DNS, WebRTC, QUIC or heap flags; the gateway sets those). */
  args?: string[];
  /** Resource requests and limits of the container. */
  resources?: V1ResourceRequirements;
  /** Extra environment variables. */
  env?: V1EnvVar[];
  /**
   * Run Chromium with its own sandbox (renderers in their own user and PID namespaces) instead of `--no-sandbox`,
   * under the Localhost seccomp profile `sandboxSeccompProfile` that every node running the pool's pods must have
   * (default false).
   */
  sandbox?: boolean;
  /** The Localhost seccomp profile of a sandboxed pool, relative to the kubelet's seccomp directory (default DEFAULT_SANDBOX_SECCOMP_PROFILE). */
  sandboxSeccompProfile?: string;
}

/** The gateway of each browser pod (bearer auth, CDP multiplexer, health, status) in the browser container. */
export interface BrowserPoolGateway {
  /** Port on the pod IP (default 9222). */
  port: number;
}


/** When browsers are replaced. */
export interface BrowserPoolRecycle {
  /** A browser older than this is drained and replaced (default 3600, >= 10). */
  maxAgeSeconds: number;
  /** A draining browser is deleted after this even with open pages (default 300, <= maxAgeSeconds). */
  drainTimeoutSeconds: number;
  /** A browser unhealthy for this long is replaced (default 60, >= 1). */
  unhealthyAfterSeconds: number;
  /** A browser that has served this many leases is drained and replaced (default 0: no limit; optional so specs
   * written before it existed still type-check). */
  maxLeases?: number;
  /** A browser whose resident memory exceeds this quantity (e.g. "1536Mi") is drained and replaced; unset: no limit. */
  maxMemory?: string;
}

/** Where browser pods are scheduled. */
export interface BrowserPoolScheduling {
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  priorityClassName?: string;
}

/** Who may reach the browsers' CDP port (feeds the pool's NetworkPolicy). */
export interface BrowserPoolAccess {
  /** Pods in the pool's namespace allowed to connect; unset means the composer-mcp server pods. */
  podSelector?: V1LabelSelector;
}

/** Where the browsers may connect to (besides DNS): the Composer and API origins their pages need. */
export interface BrowserPoolEgress {
  /**
   * Origins (`https://host[:port]`, exact) the browsers may reach: each gateway's egress proxy admits only these, and
   * the operator writes the pool's egress NetworkPolicy from them (DNS plus these hosts' addresses on these ports);
   * empty: the browsers reach nothing (DNS only).
   */
  allowedOrigins?: string[];
}

/** Desired state of a BrowserPool (after API-server defaulting every non-optional field is present). */
export interface BrowserPoolSpec {
  /** Warm browsers wanted (default 2, >= 0); the scale subresource points here. */
  replicas: number;
  autoscaling?: BrowserPoolAutoscaling;
  /** Concurrent sessions (browser contexts) one browser takes (default 4, 1..64). */
  maxSessionsPerBrowser: number;
  browser: BrowserPoolBrowser;
  gateway: BrowserPoolGateway;
  recycle: BrowserPoolRecycle;
  scheduling?: BrowserPoolScheduling;
  access?: BrowserPoolAccess;
  egress?: BrowserPoolEgress;
}

/** A condition in `status.conditions` (the shape of metav1.Condition; times are RFC 3339 strings). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase reason, e.g. "AllBrowsersReady". */
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** One browser of the pool as the operator last observed it. */
export interface BrowserStatus {
  /** Pod name. */
  name: string;
  /** Gateway URL, `http://<podIP>:<port>`. */
  endpoint: string;
  state: BrowserState;
  /** Sessions leased on the browser (its gateway's `leased`; pre-warmed pages do not count). */
  sessions: number;
  /** When the browser started (RFC 3339). */
  startedAt: string;
}

/** Observed state of a BrowserPool, written by the operator through the status subresource. */
export interface BrowserPoolStatus {
  observedGeneration?: number;
  /** Browsers the operator steers towards: spec.replicas, or the autoscaler's choice (unset while the spec is invalid). */
  desiredReplicas?: number;
  /** Browsers that exist (any state); the scale subresource reads this. */
  replicas?: number;
  /** Browsers in state Ready. */
  readyReplicas?: number;
  /** Label selector of the pool's pods in string form, for the scale subresource (HPA, KEDA). */
  selector?: string;
  conditions?: Condition[];
  browsers?: BrowserStatus[];
}

/** A BrowserPool object as read from the API server. */
export interface BrowserPool {
  /** `browser.composer-mcp.io/v1alpha1`. */
  apiVersion: string;
  /** `BrowserPool`. */
  kind: string;
  metadata: V1ObjectMeta;
  spec: BrowserPoolSpec;
  status?: BrowserPoolStatus;
}
