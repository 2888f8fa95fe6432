"""replicator: replicate the Games IT environment (ITL, CTOC, TOC) as linked Pulumi stacks."""

__version__ = "0.1.0"
