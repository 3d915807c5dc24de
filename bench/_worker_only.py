import json
import sys

from bench import scale
from bench.__main__ import POSTGRES
from bench.common import in_shell

url, dataset = scale.generate(POSTGRES) if "generate" in sys.argv else scale.generated(POSTGRES)
ids = dataset["ids"]
if "minute-only" not in sys.argv:
    print(json.dumps(in_shell(url, "bench.scale", "inner_worker", ids)), flush=True)
print(json.dumps(in_shell(url, "bench.worker", "minute", ids), indent=1))
