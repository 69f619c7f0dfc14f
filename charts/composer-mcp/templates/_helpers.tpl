{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "composer-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name. */}}
{{- define "composer-mcp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "composer-mcp.operator.fullname" -}}{{ include "composer-mcp.fullname" . | trunc 54 | trimSuffix "-" }}-operator{{- end -}}
{{- define "composer-mcp.server.fullname" -}}{{ include "composer-mcp.fullname" . | trunc 56 | trimSuffix "-" }}-server{{- end -}}

{{/* Labels every object carries. */}}
{{- define "composer-mcp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: composer-mcp
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "composer-mcp.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "composer-mcp.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "composer-mcp.server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "composer-mcp.name" . }}-server
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Image reference: registry/repository:tag, tag defaulting to the chart's appVersion. */}}
{{- define "composer-mcp.image" -}}
{{- $root := index . 0 -}}{{- $image := index . 1 -}}
{{- $registry := default $root.Values.image.registry $image.registry -}}
{{- $tag := default $root.Chart.AppVersion (default $root.Values.image.tag $image.tag) -}}
{{- if $image.digest -}}
{{- printf "%s/%s@%s" $registry $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Namespace of the default BrowserPool. */}}
{{- define "composer-mcp.poolNamespace" -}}{{ default .Release.Namespace .Values.browserPool.namespace }}{{- end -}}

{{/* Topology spread for a component: spread replicas over nodes and zones, softly. */}}
{{- define "composer-mcp.topologySpread" -}}
{{- $root := index . 0 -}}{{- $values := index . 1 -}}{{- $selector := index . 2 -}}
{{- if $values.topologySpreadConstraints }}
{{ toYaml $values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
{{ $selector | indent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
{{ $selector | indent 6 }}
{{- end }}
{{- end -}}

{{/* Name of the operator's leader-election Lease (one per release, in the release namespace). */}}
{{- define "composer-mcp.operator.leaseName" -}}{{ include "composer-mcp.operator.fullname" . }}{{- end -}}

{{/* The namespaces the operator manages (a JSON list): watchNamespaces, else the release namespace; [] when clusterWide. */}}
{{- define "composer-mcp.operator.watchedNamespaces" -}}
{{- if .Values.operator.clusterWide }}{{ list | toJson }}{{ else }}{{ default (list .Release.Namespace) .Values.operator.watchNamespaces | toJson }}{{ end }}
{{- end -}}
