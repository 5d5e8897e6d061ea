__version__ = "0.1.0"

import os as _os
# Idle OpenMP threads sleep instead of spinning: on a shared CPU a spinning default made training steps 10-40x
# slower, at a cost of about 1.6x for a lone process on idle cores (benchmarks/contention.md). Set before torch loads
# OpenMP; a value the user sets (e.g. OMP_WAIT_POLICY=ACTIVE on a machine of one's own) wins.
_os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
