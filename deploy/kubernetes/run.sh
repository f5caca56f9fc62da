#!/bin/sh
# Runs one split audit on a Kubernetes cluster: the plan Job, then the Indexed Job of
# shards (its completions, parallelism and --shard /N must agree), then the merge Job,
# each started when the one before it has succeeded. Edit the buckets, window and image
# in jobs.json first; the service account needs read access to the trail bucket and
# read-write access to the work prefix (for example through IRSA on EKS).
# The merge Job fails, without retries, when the verdict is 1 (integrity failure) or 3
# (incomplete); its report is written to the work prefix either way.
set -eu
here=$(dirname "$0")
for job in ctd-plan ctd-shards ctd-merge; do
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([i for i in d["items"] if i["metadata"]["name"]==sys.argv[2]][0]))' \
        "$here/jobs.json" "$job" | kubectl apply -f -
    while :; do
        done_=$(kubectl get "job/$job" -o jsonpath='{.status.succeeded}/{.status.failed}/{.spec.completions}')
        succeeded=${done_%%/*}
        completions=${done_##*/}
        case "$(kubectl get "job/$job" -o jsonpath='{.status.conditions[*].type}')" in
            *Failed*) echo "job/$job failed: kubectl logs job/$job" >&2; exit 1 ;;
        esac
        [ "${succeeded:-0}" = "$completions" ] && break
        sleep 30
    done
done
