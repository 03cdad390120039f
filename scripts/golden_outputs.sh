#!/usr/bin/env bash
# Record what users see from the shipped examples, to prove a refactor changes none of it:
#   scripts/golden_outputs.sh OUTDIR        (run before and after, then: diff -r BEFORE AFTER)
# Each command's stdout, stderr and exit code go to one file per command.
set -u
out=${1:?usage: golden_outputs.sh OUTDIR}
cd "$(dirname "$0")/.."
ig=${IAMGATE:-.venv/bin/iamgate}
mkdir -p "$out"
run() {  # name, command...
  local name=$1; shift
  { "$@"; echo "exit $?"; } >"$out/$name.out" 2>"$out/$name.err"
}
for ex in account-export cloudformation terraform; do
  m=examples/$ex/iamgate.yaml
  run "$ex.check.text" "$ig" check --manifest "$m" "examples/$ex"
  run "$ex.check.json" "$ig" check --manifest "$m" "examples/$ex" --format json
  run "$ex.check.fixdiff" "$ig" check --manifest "$m" "examples/$ex" --fix-diff
  run "$ex.inventory.text" "$ig" inventory --manifest "$m" "examples/$ex"
  run "$ex.inventory.json" "$ig" inventory --manifest "$m" "examples/$ex" --format json
done
run nomanifest.check.text "$ig" check examples/cloudformation
run nomanifest.check.json "$ig" check examples/cloudformation --format json
run simulate.text "$ig" simulate --manifest examples/cloudformation/iamgate.yaml WorkerRole s3:PutObject 'arn:aws:s3:::orders-prod-111122223333/x' examples/cloudformation
run simulate.json "$ig" simulate --manifest examples/cloudformation/iamgate.yaml WorkerRole s3:PutObject 'arn:aws:s3:::orders-prod-111122223333/x' examples/cloudformation --format json
msg='User: arn:aws:sts::111122223333:assumed-role/orders-worker-prod/i-0abc is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::orders-prod-111122223333/x" because no identity-based policy allows the s3:PutObject action'
run explain.text "$ig" explain --manifest examples/cloudformation/iamgate.yaml "$msg" examples/cloudformation
run explain.json "$ig" explain --manifest examples/cloudformation/iamgate.yaml "$msg" examples/cloudformation --format json
run diff.text "$ig" diff 015049a~1 examples
run diff.json "$ig" diff 015049a~1 examples --format json
run diff.markdown "$ig" diff 015049a~1 examples --format markdown
run version "$ig" --version
