{{/* graft's namespace: namespace.name, else the release's. */}}
{{- define "graft.namespace" -}}
{{- .Values.namespace.name | default .Release.Namespace -}}
{{- end -}}

{{/* Labels of every object: manifests/' own, then Helm's. Call with (dict "ctx" $ "component" "webhook"). */}}
{{- define "graft.labels" -}}
app.kubernetes.io/name: graft
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
{{- end -}}

{{- define "graft.selector" -}}
app.kubernetes.io/name: graft
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "graft.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The namespaces graft never touches, as webhook/webhook-configuration.ts lists them. */}}
{{- define "graft.neverTouched" -}}
{{- $ns := include "graft.namespace" . -}}
{{- concat (list "kube-system" "kube-public" "kube-node-lease" $ns) (.Values.config.excludedNamespaces | default list) | uniq | toJson -}}
{{- end -}}

{{/* Secret holding tls.crt, tls.key and ca.crt. */}}
{{- define "graft.tlsSecret" -}}
{{- if eq .Values.tls.mode "provided" -}}
{{ .Values.tls.provided.secretName }}
{{- else -}}
graft-webhook-tls
{{- end -}}
{{- end -}}

{{/*
The serving material of mode selfManaged, computed once per render (cached in .Values): the
Secret in the cluster when there is one (so an upgrade keeps the CA and the caBundle), else a new
CA and certificate. renew: a new pair, and a caBundle trusting the new CA and the old one.
*/}}
{{- define "graft.selfManaged" -}}
{{- if not (hasKey .Values "__selfManaged") -}}
{{- $ns := include "graft.namespace" . -}}
{{- $existing := lookup "v1" "Secret" $ns "graft-webhook-tls" -}}
{{- $old := dict -}}
{{- if and $existing $existing.data -}}
{{- $old = dict "crt" (index $existing.data "tls.crt" | default "" | b64dec) "key" (index $existing.data "tls.key" | default "" | b64dec) "ca" (index $existing.data "ca.crt" | default "" | b64dec) -}}
{{- end -}}
{{- $state := dict -}}
{{- if and $old.crt $old.key $old.ca (not .Values.tls.selfManaged.renew) -}}
{{- $state = dict "crt" $old.crt "key" $old.key "ca" $old.ca "bundle" $old.ca -}}
{{- else -}}
{{- $days := int .Values.tls.selfManaged.days -}}
{{- $ca := genCA "graft-ca" (mul $days 2 | int) -}}
{{- $dns := list (printf "graft-webhook.%s.svc" $ns) (printf "graft-webhook.%s.svc.cluster.local" $ns) -}}
{{- $cert := genSignedCert (printf "graft-webhook.%s.svc" $ns) nil $dns $days $ca -}}
{{- $bundle := $ca.Cert -}}
{{- if $old.ca -}}
{{- $bundle = printf "%s\n%s" (trimSuffix "\n" $ca.Cert) $old.ca -}}
{{- end -}}
{{- $state = dict "crt" $cert.Cert "key" $cert.Key "ca" $ca.Cert "bundle" $bundle -}}
{{- end -}}
{{- $_ := set .Values "__selfManaged" $state -}}
{{- end -}}
{{- end -}}

{{/* The caBundle (base64 PEM) for every webhook; empty in mode certManager (cainjector fills it). */}}
{{- define "graft.caBundle" -}}
{{- if eq .Values.tls.mode "selfManaged" -}}
{{- include "graft.selfManaged" . -}}
{{- index .Values "__selfManaged" "bundle" | b64enc -}}
{{- else if eq .Values.tls.mode "provided" -}}
{{- if .Values.tls.provided.caBundle -}}
{{- .Values.tls.provided.caBundle | b64enc -}}
{{- else -}}
{{- $ns := include "graft.namespace" . -}}
{{- $secret := lookup "v1" "Secret" $ns .Values.tls.provided.secretName -}}
{{- if and $secret $secret.data (index $secret.data "ca.crt") -}}
{{- index $secret.data "ca.crt" -}}
{{- else if not (empty (lookup "v1" "Namespace" "" "kube-system")) -}}
{{- fail (printf "tls.mode=provided: set tls.provided.caBundle to the CA's PEM, or create Secret %s/%s with key ca.crt first (the API server cannot call graft without it)" $ns .Values.tls.provided.secretName) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "graft.configYaml" -}}
{{- merge (dict "namespace" (include "graft.namespace" .)) (deepCopy .Values.config) | toYaml -}}
{{- end -}}
