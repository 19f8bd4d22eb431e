#!/usr/bin/env bash
# Resolves each install of nnlab without installing anything (pip's dry run against PyPI):
# the base install must hold no TensorFlow (it only renders reports), .[cpu] must bring
# tensorflow-cpu, .[gpu] tensorflow with its CUDA wheels and .[cluster] Dask's distributed.
# Run by `make test`.
set -euo pipefail
pip=${1:-.venv/bin/pip}
python=$(dirname "$pip")/python
for extra in base cpu gpu cluster; do
    spec=$([ "$extra" = base ] && echo . || echo ".[$extra]")
    report=$(mktemp)
    "$pip" install --dry-run --quiet --ignore-installed --disable-pip-version-check \
        --report "$report" "$spec" 2>/dev/null
    "$python" - "$extra" "$report" <<'PY'
import json, sys
extra, path = sys.argv[1], sys.argv[2]
names = {item["metadata"]["name"].lower().replace("_", "-")
         for item in json.load(open(path))["install"]}
wanted = {"base": set(), "cpu": {"tensorflow-cpu", "keras"},
          "gpu": {"tensorflow", "keras", "nvidia-cudnn-cu12"}, "cluster": {"distributed"}}[extra]
tensorflow = {name for name in names if name.startswith("tensorflow")}
if extra == "base" and tensorflow:
    sys.exit(f"check-extras: the base install pulls in {sorted(tensorflow)}")
if not wanted <= names:
    sys.exit(f"check-extras: .[{extra}] resolves without {sorted(wanted - names)}")
print(f"check-extras: {extra}: {len(names)} packages resolve" + (
    f", including {', '.join(sorted(wanted))}" if wanted else ", no TensorFlow"))
PY
    rm -f "$report"
done
