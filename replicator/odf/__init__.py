"""ODF toolkit for the host side (CLI, benchmarks, tests): build, validate and
identify Olympic Data Feed messages. See `replicator.odf.message`."""

from replicator.odf.message import *  # noqa: F403 (the re-export is message.__all__)
from replicator.odf.message import __all__  # noqa: F401
