"""`make bench`: retrieval quality (bench/quality.py) and speed and size (bench/speed.py), into bench/results.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script, args in (("quality.py", []), ("speed.py", ["--passages", "10000", "--server"]), ("slack_load.py", ["--n", "50"])):
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)
