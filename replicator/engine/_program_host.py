"""Runs a Pulumi Python program against the embedded engine (a child process).

The counterpart of the SDK's `pulumi-language-python-exec`: the Pulumi CLI's
Python language host starts that script with the monitor and engine addresses;
the embedded engine starts this module the same way. The program itself runs
unmodified, through the real SDK, exactly as under `pulumi up`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import logging
import os
import runpy
import sys
import traceback

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.engine.host_protocol import MISSING_CONFIG_MARKER


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="replicator-program-host")
    ap.add_argument("--project", required=True)
    ap.add_argument("--stack", required=True)
    ap.add_argument("--organization", default="organization")
    ap.add_argument("--monitor", required=True)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL)
    ap.add_argument("--pwd", required=True)
    ap.add_argument("program")
    args = ap.parse_args(argv)

    import pulumi
    import pulumi.runtime

    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(),
                                  pulumi.runtime.get_config_secret_keys_env())
    pulumi.runtime.reset_options(
        project=args.project,
        stack=args.stack,
        root_directory=args.pwd,
        parallel=args.parallel,
        monitor_address=args.monitor,
        engine_address=args.engine,
        preview=args.dry_run,
        organization=args.organization,
    )
    os.chdir(args.pwd)
    sys.argv = [args.program]
    # Same reason as the SDK's own host: an aborted graph leaves futures unobserved.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ok = False
    try:
        def program() -> None:
            runpy.run_path(args.program, run_name="__main__")

        coro = pulumi.runtime.run_in_stack(program)
        contextvars.copy_context().run(loop.run_until_complete, coro)
        ok = True
    except pulumi.ConfigMissingError as exc:
        # A user's input error, not a program failure: the engine turns it into exit 2.
        print(f"{MISSING_CONFIG_MARKER}{exc.key}", flush=True)
        return 2
    except pulumi.RunError as exc:
        _report(pulumi, str(exc))
    except Exception as exc:  # noqa: BLE001
        render = getattr(exc, "render", None)
        if callable(render):
            # An error meant for the user (bad topology, bad stack config): no traceback.
            _report(pulumi, render())
        elif _from_engine(exc):
            # The engine refused a resource and already showed why: no SDK traceback.
            _report(pulumi, str(exc))
        else:
            _report(pulumi, traceback.format_exc())
        return 1
    finally:
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return 0 if ok else 1


def _from_engine(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "handle_grpc_error":
            return True
        tb = tb.tb_next
    return False


def _report(pulumi: object, message: str) -> None:
    try:
        pulumi.log.error(message)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the monitor may be gone already
        print(message, file=sys.stderr)


if __name__ == "__main__":
    profile_to = os.environ.get("REPLICATOR_PROFILE_PROGRAM")
    if profile_to:  # a developer's aid: where does the program's time go?
        import cProfile

        cProfile.run("main()", profile_to)  # returns nothing: the profile goes to the file
        sys.exit(0)
    sys.exit(main())
