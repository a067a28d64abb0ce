"""`make bench`: retrieval quality (bench/quality.py), speed and size (bench/speed.py), latency and memory at
100,000 passages (bench/scale.py; a million with `python bench/scale.py --passages 1000000 --server`), and the
Slack endpoint under load (bench/slack_load.py), into bench/results.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script, args in (("quality.py", []), ("speed.py", ["--passages", "10000", "--server"]),
                     ("scale.py", ["--passages", "100000", "--server"]), ("slack_load.py", ["--n", "50"])):
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)
