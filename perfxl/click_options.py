"""Options that several commands share, declared once so they read and behave alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

jobs_option: Callable[[Any], Any] = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="并行进程数（默认：全部 CPU 核）",
)


def cluster_option(what: str) -> Callable[[Any], Any]:
    """--cluster (or PERFXL_CLUSTER): run the per-file work on a dask cluster; `what` says
    which work, e.g. 审核交回的文件."""
    return click.option(
        "--cluster",
        envvar="PERFXL_CLUSTER",
        default=None,
        metavar="ADDRESS",
        help=f"在 dask 集群上{what}：调度器地址 tcp://主机:端口，或 local（本机启动，"
        "进程数取 --jobs）；也可用环境变量 PERFXL_CLUSTER。需 pip install 'perfxl[dask]'，"
        "文件须位于各计算节点都能读取的位置",
    )
