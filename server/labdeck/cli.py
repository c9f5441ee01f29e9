"""The `labdeck` command."""

import argparse
import sys
from pathlib import Path

from . import __version__
from .paths import StateDir, default_state_dir


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labdeck", description="A self-hosted studio lab.")
    parser.add_argument("--version", action="version", version=f"labdeck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run labdeck on this machine")
    doctor = commands.add_parser("doctor", help="check this machine can run labdeck")
    for sub in (up, doctor):
        sub.add_argument(
            "--backend",
            choices=("local", "slurm"),
            default="local",
            help="where sessions, training jobs and Spark clusters run: this machine "
            "(default) or the Slurm cluster its sbatch reaches (SLURM_CONF is honoured)",
        )
        sub.add_argument("--ip", default="127.0.0.1", help="address to listen on")
        sub.add_argument("--port", type=int, default=8000, help="port to listen on")
        sub.add_argument(
            "--state-dir",
            type=Path,
            default=default_state_dir(),
            help="where users, homes and databases are kept (default: ~/.labdeck)",
        )
    up.add_argument("--admin", default="admin", help="name of the first admin user")
    up.add_argument(
        "--gpus",
        default="",
        help="GPU ids to hand out, e.g. 0,1 (default: detect them with nvidia-smi)",
    )
    up.add_argument(
        "--slurm-partition", default="", help="Slurm partition to submit to (--backend slurm)"
    )
    up.add_argument("--log-level", default="INFO", help="hub log level")

    invite = commands.add_parser(
        "invite", help="print a one-time link for a user to choose their password"
    )
    invite.add_argument("name", help="the hub user (added if the hub does not know them)")
    invite.add_argument(
        "--password",
        action="store_true",
        help="set an initial password instead (asked for, or one line on stdin)",
    )
    invite.add_argument("--port", type=int, default=8000, help="port labdeck up listens on")
    invite.add_argument("--url", help="the hub's address (default: http://127.0.0.1:PORT)")
    invite.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(),
        help="the state directory of that labdeck (its admin token is used)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        from .doctor import report, run_checks

        state = StateDir(args.state_dir.expanduser())
        return report(run_checks(args.ip, args.port, state, args.backend))
    if args.command == "invite":
        from .invite import InviteError
        from .invite import run as invite

        try:
            url = args.url or f"http://127.0.0.1:{args.port}"
            return invite(args.name, url, StateDir(args.state_dir.expanduser()), args.password)
        except InviteError as e:
            print(f"labdeck: {e}", file=sys.stderr)
            return 1

    from .hub.settings import parse_gpus
    from .up import UpError, run

    try:
        return run(
            args.ip,
            args.port,
            args.state_dir,
            args.admin,
            gpus=parse_gpus(args.gpus),
            log_level=args.log_level,
            backend=args.backend,
            slurm_partition=args.slurm_partition,
        )
    except UpError as e:
        print(f"labdeck: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
