"""What the program host (`_program_host`, a child process) tells the engine besides gRPC.

A module of its own so that both sides share it without the child importing
the engine.
"""

# The stdout line by which the program host says that the program required a
# config value the stack does not set (the engine turns it into exit 2).
MISSING_CONFIG_MARKER = "replicator:missing-config:"
