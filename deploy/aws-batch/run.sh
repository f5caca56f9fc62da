#!/bin/sh
# Registers the three job definitions and submits one split audit: the plan, an array
# job of SHARDS shards that starts when the plan is written, and the merge that starts
# when every shard is done. Needs the AWS CLI and a Batch job queue.
#   QUEUE=my-queue WORK=s3://my-work-bucket/audit-2026q1 TRAIL_BUCKET=org-trail-bucket \
#   KEYS=s3://my-work-bucket/keys/ \
#   START=2026-01-01T00:00:00Z END=2026-04-01T00:00:00Z NOW=2026-04-02T00:00:00Z \
#   SHARDS=16 sh deploy/aws-batch/run.sh
set -eu
here=$(dirname "$0")
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$here/job-definitions.json")
i=0
while [ "$i" -lt "$n" ]; do
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[int(sys.argv[2])]))' \
        "$here/job-definitions.json" "$i" > /tmp/ctd-job-definition.json
    aws batch register-job-definition --cli-input-json file:///tmp/ctd-job-definition.json > /dev/null
    i=$((i + 1))
done
plan=$(aws batch submit-job --job-name ctd-plan --job-queue "$QUEUE" \
    --job-definition cloudtrail-digest-plan \
    --parameters "public_keys=$KEYS,trail_bucket=$TRAIL_BUCKET,start_time=$START,end_time=$END,now=$NOW,unit_hours=${UNIT_HOURS:-168},plan=$WORK/plan.jsonl" \
    --query jobId --output text)
shards=$(aws batch submit-job --job-name ctd-shards --job-queue "$QUEUE" \
    --job-definition cloudtrail-digest-shard --array-properties "size=$SHARDS" \
    --depends-on "jobId=$plan" \
    --parameters "public_keys=$KEYS,plan=$WORK/plan.jsonl,shards=/$SHARDS,parts=$WORK/parts/" \
    --query jobId --output text)
aws batch submit-job --job-name ctd-merge --job-queue "$QUEUE" \
    --job-definition cloudtrail-digest-merge --depends-on "jobId=$shards" \
    --parameters "parts=$WORK/parts/,report=$WORK/report.ndjson" \
    --query jobId --output text
