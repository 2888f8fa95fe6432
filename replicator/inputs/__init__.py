"""Every input replicator reads, checked before anything is done.

Reusable by every command and input kind (topology, stack files, Pulumi.yaml,
campaign files, report parameters):

- `files.read_text`: size limit checked before reading, binary, encoding and
  control characters refused with a line and column;
- `yamlio.load_yaml` / `parse_yaml`: YAML through libyaml with a depth limit,
  YAML 1.2 scalars, and a line for every key and item (`paths.line_of` reads them);
  duplicate, null and complex keys and impossible dates are located errors;
- `names`: edition and stack names checked against their pattern before they
  become paths;
- `env`: the environment variables replicator reads, each checked.

Every problem is an `InputError` (exit 2) naming the file, the line or the
argument, and a fix.
"""

from replicator.inputs.files import MAX_FILE_BYTES, read_text
from replicator.inputs.names import (
    check_edition_name,
    check_pulumi_stack_name,
    check_stack_name,
)
from replicator.inputs.yamlio import MAX_DEPTH, load_yaml, parse_yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "check_edition_name",
    "check_pulumi_stack_name",
    "check_stack_name",
    "load_yaml",
    "parse_yaml",
    "read_text",
]
