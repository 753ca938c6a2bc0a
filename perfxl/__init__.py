"""perfxl: budget-performance self-evaluation workbooks (预算绩效自评表), exact and checked."""

__version__ = "0.1.0"
