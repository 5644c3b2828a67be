// Validates the custom resources of the rendered Kubernetes manifests (JSON documents on stdin, one
// array) with the Prometheus Operator's own schemas (@kubernetes-models/prometheus-operator): the
// core kinds are validated in Python (kubernetes-validate), which has no schema for these.
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const kinds = { ServiceMonitor, PrometheusRule };
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let failed = false;
for (const doc of JSON.parse(Buffer.concat(chunks).toString("utf8"))) {
  const Model = kinds[doc.kind];
  const name = `${doc.kind}/${doc.metadata?.name}`;
  if (!doc.apiVersion?.startsWith("monitoring.coreos.com/") || Model === undefined) {
    console.log(`${name}: no schema for ${doc.apiVersion}`);
    failed = true;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`${name}: valid`);
  } catch (error) {
    failed = true;
    console.log(`${name}: ${error.message}`);
  }
}
process.exit(failed ? 1 : 0);
