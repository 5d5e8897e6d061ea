__version__ = "0.1.0"

import os as _os
# Idle OpenMP threads sleep instead of spinning: on a shared CPU a spinning default made training steps 10-20x
# slower (benchmarks/contention.md). Set before torch loads OpenMP; a value the user sets wins.
_os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
