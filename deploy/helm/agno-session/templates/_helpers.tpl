{{/* Names and labels. */}}
{{- define "agno-session.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agno-session.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "agno-session.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agno-session.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agno-session.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "agno-session.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "agno-session.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agno-session.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agno-session.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret holding the DSN (or DSN map), made by this chart unless an existing one is named. */}}
{{- define "agno-session.dbSecretName" -}}
{{- default (printf "%s-db" (include "agno-session.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "agno-session.keySecretName" -}}
{{- default (printf "%s-key" (include "agno-session.fullname" .)) .Values.auth.securityKey.existingSecret -}}
{{- end -}}

{{- define "agno-session.metricsSecretName" -}}
{{- default (printf "%s-metrics" (include "agno-session.fullname" .)) .Values.auth.metricsToken.existingSecret -}}
{{- end -}}

{{- define "agno-session.useDsnMap" -}}
{{- if .Values.database.existingSecret -}}{{- if .Values.database.dsnMapKey -}}true{{- end -}}
{{- else if .Values.database.dsnMap -}}true{{- end -}}
{{- end -}}

{{/* Connection budget: pods at most × workers × pool per database, per PostgreSQL server. */}}
{{- define "agno-session.pool" -}}
{{- if gt (int .Values.poolSize) 0 -}}{{ int .Values.poolSize }}{{- else -}}{{ int .Values.threads }}{{- end -}}
{{- end -}}

{{- define "agno-session.maxPods" -}}
{{- if .Values.autoscaling.enabled -}}{{ int .Values.autoscaling.maxReplicas }}{{- else -}}{{ int .Values.replicaCount }}{{- end -}}
{{- end -}}

{{- define "agno-session.databases" -}}
{{- if and (not .Values.database.existingSecret) .Values.database.dsnMap -}}
{{- min (len .Values.database.dsnMap) (int .Values.postgres.databasesPerServer | max 1) -}}
{{- else -}}{{ int .Values.postgres.databasesPerServer | max 1 }}{{- end -}}
{{- end -}}

{{/* Per pod: each worker's pool for each database, plus one short-lived readiness connection per database. */}}
{{- define "agno-session.perPod" -}}
{{- $dbs := int (include "agno-session.databases" .) -}}
{{- add (mul (int .Values.workers) (int (include "agno-session.pool" .)) $dbs) $dbs -}}
{{- end -}}

{{/* One extra pod while a rollout surges (maxSurge 1). */}}
{{- define "agno-session.connectionsNeeded" -}}
{{- $service := mul (add1 (int (include "agno-session.maxPods" .))) (int (include "agno-session.perPod" .)) -}}
{{- add $service (int (include "agno-session.eventsConnections" .)) -}}
{{- end -}}

{{/* The event pods (one surging): per database, one poller and the catch-up reads beside it. */}}
{{- define "agno-session.eventsConnections" -}}
{{- if .Values.events.enabled -}}
{{- mul (add1 (int .Values.events.replicaCount)) (add1 (int .Values.events.catchUps)) (int (include "agno-session.databases" .)) -}}
{{- else -}}0{{- end -}}
{{- end -}}

{{- define "agno-session.connectionsAvailable" -}}
{{- sub (int .Values.postgres.maxConnections) (int .Values.postgres.reservedConnections) -}}
{{- end -}}

{{/* Refuse to render a deployment whose largest size would exhaust PostgreSQL's max_connections. */}}
{{- define "agno-session.checkBudget" -}}
{{- $need := int (include "agno-session.connectionsNeeded" .) -}}
{{- $have := int (include "agno-session.connectionsAvailable" .) -}}
{{- if gt $need $have -}}
{{- fail (printf "connection budget exceeded: (%d pods + 1 surging) × %d workers × pool %d × %d database(s) (+1 probe connection per database per pod, + event pods) = %d connections, but PostgreSQL allows %d (max_connections %d - %d reserved). Lower autoscaling.maxReplicas/replicaCount, workers or poolSize, or raise postgres.maxConnections (or put PgBouncer in front: docs/operations.md)." (int (include "agno-session.maxPods" .)) (int .Values.workers) (int (include "agno-session.pool" .)) (int (include "agno-session.databases" .)) $need $have (int .Values.postgres.maxConnections) (int .Values.postgres.reservedConnections)) -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by the server, the migration Job and the test pod. */}}
{{- define "agno-session.env" -}}
{{- if include "agno-session.useDsnMap" . }}
- name: AGNO_SESSION_DSN_MAP
  valueFrom:
    secretKeyRef:
      name: {{ include "agno-session.dbSecretName" . }}
      key: {{ if .Values.database.existingSecret }}{{ .Values.database.dsnMapKey }}{{ else }}dsn-map{{ end }}
{{- else }}
- name: AGNO_PG_DSN
  valueFrom:
    secretKeyRef:
      name: {{ include "agno-session.dbSecretName" . }}
      key: {{ if .Values.database.existingSecret }}{{ .Values.database.dsnKey }}{{ else }}dsn{{ end }}
{{- end }}
{{- with .Values.database.dbId }}
- name: AGNO_DB_ID
  value: {{ . | quote }}
{{- end }}
{{- with .Values.database.defaultDbId }}
- name: AGNO_DEFAULT_DB_ID
  value: {{ . | quote }}
{{- end }}
- name: AGNO_REQUIRE_DB_ID
  value: {{ .Values.database.requireDbId | quote }}
- name: AGNO_DB_SCHEMA
  value: {{ .Values.database.schema | quote }}
- name: AGNO_REQUEST_TIMEOUT
  value: {{ .Values.requestTimeoutSeconds | quote }}
- name: AGNO_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* The event process (serve-events): its own name and selector, which the service's selector never matches. */}}
{{- define "agno-session.eventsName" -}}
{{- printf "%s-events" (include "agno-session.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agno-session.eventsSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-events" (include "agno-session.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: events
{{- end -}}

{{- define "agno-session.eventsLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "agno-session.eventsSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* AGNO_METRICS_TOKEN from its Secret when one is configured: every process's metrics port refuses other scrapes. */}}
{{- define "agno-session.metricsTokenEnv" -}}
{{- if or .Values.auth.metricsToken.existingSecret .Values.auth.metricsToken.value -}}
- name: AGNO_METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "agno-session.metricsSecretName" . }}
      key: {{ .Values.auth.metricsToken.key }}
{{- end }}
{{- end }}
