{{/* The operator's settings as environment variables (names from operator/src/config.ts). */}}
{{- define "composer-mcp.operator.env" -}}
{{- $o := .Values.operator -}}
- { name: OPERATOR_WATCH_NAMESPACES, value: {{ $o.watchNamespaces | join "," | quote }} }
- { name: OPERATOR_LEADER_ELECTION__ENABLED, value: {{ $o.leaderElection.enabled | quote }} }
- { name: OPERATOR_LEADER_ELECTION__NAMESPACE, value: {{ .Release.Namespace | quote }} }
- { name: OPERATOR_LEADER_ELECTION__NAME, value: {{ include "composer-mcp.operator.leaseName" . | quote }} }
- { name: OPERATOR_LEADER_ELECTION__LEASE_DURATION_SECONDS, value: {{ $o.leaderElection.leaseDurationSeconds | quote }} }
- { name: OPERATOR_LEADER_ELECTION__RENEW_DEADLINE_SECONDS, value: {{ $o.leaderElection.renewDeadlineSeconds | quote }} }
- { name: OPERATOR_LEADER_ELECTION__RETRY_PERIOD_SECONDS, value: {{ $o.leaderElection.retryPeriodSeconds | quote }} }
- { name: OPERATOR_LOG_LEVEL, value: {{ $o.logLevel | quote }} }
- { name: OPERATOR_METRICS_PORT, value: {{ $o.metricsPort | quote }} }
- { name: OPERATOR_HEALTH_PORT, value: {{ $o.healthPort | quote }} }
{{- end -}}
