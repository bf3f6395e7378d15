"""A generated, reproducible media server for demos, tests and benchmarks (``marquee demo-data``).

Same seed (and same fixed ``now``) → exactly the same rows, ids included.
"""

from core.demo_data.config import DemoConfig, DemoSummary
from core.demo_data.generate import DemoDataError, generate_demo_data
from core.demo_data.loading import GENERATED_TABLES, database_is_empty
from core.progress import ProgressCallback

__all__ = [
    "GENERATED_TABLES",
    "DemoConfig",
    "DemoDataError",
    "DemoSummary",
    "ProgressCallback",
    "database_is_empty",
    "generate_demo_data",
]
