{{/* The operator's settings as environment variables: prefix BROWSERPOOL_OPERATOR, names from operator/src/config.ts. */}}
{{- define "composer-mcp.operator.env" -}}
{{- $o := .Values.operator -}}
{{- if $o.clusterWide }}
- { name: BROWSERPOOL_OPERATOR_ALL_NAMESPACES, value: "true" }
{{- else }}
- { name: BROWSERPOOL_OPERATOR_NAMESPACES, value: {{ join "," (fromJsonArray (include "composer-mcp.operator.watchedNamespaces" .)) | quote }} }
{{- end }}
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__ENABLED, value: {{ $o.leaderElection.enabled | quote }} }
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__NAMESPACE, value: {{ .Release.Namespace | quote }} }
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__LEASE_NAME, value: {{ include "composer-mcp.operator.leaseName" . | quote }} }
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__LEASE_DURATION_SECONDS, value: {{ $o.leaderElection.leaseDurationSeconds | quote }} }
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__RENEW_DEADLINE_SECONDS, value: {{ $o.leaderElection.renewDeadlineSeconds | quote }} }
- { name: BROWSERPOOL_OPERATOR_LEADER_ELECTION__RETRY_PERIOD_SECONDS, value: {{ $o.leaderElection.retryPeriodSeconds | quote }} }
- { name: BROWSERPOOL_OPERATOR_METRICS_PORT, value: {{ $o.metricsPort | quote }} }
- { name: BROWSERPOOL_OPERATOR_HEALTH_PORT, value: {{ $o.healthPort | quote }} }
- { name: BROWSERPOOL_OPERATOR_OPERATOR_PODS__NAMESPACE, value: {{ .Release.Namespace | quote }} }
- { name: BROWSERPOOL_OPERATOR_OPERATOR_PODS__LABELS, value: {{ include "composer-mcp.operator.selectorLabels" . | fromYaml | toJson | quote }} }
- { name: LOG_LEVEL, value: {{ $o.logLevel | quote }} }
- { name: LOG_FORMAT, value: json }
{{- end -}}
