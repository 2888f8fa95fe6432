"""ODF toolkit for the host side (CLI, benchmarks, tests): build, validate and
identify Olympic Data Feed messages. See `replicator.odf.message`."""

from replicator.odf.message import *
from replicator.odf.message import __all__  # noqa: F401
