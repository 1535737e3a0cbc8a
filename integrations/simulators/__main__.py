"""Run one stand-in system: ``python -m integrations.simulators erp|wms|tms``.

The process prints ``ready <name> http://127.0.0.1:<port>`` once it is
listening (``--port 0`` picks a free port and the line tells which), and
exits with status 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from integrations.simulators.base import Options, Simulator, simulator_server
from integrations.simulators.erp import ErpSimulator
from integrations.simulators.tms import TmsSimulator
from integrations.simulators.wms import WmsSimulator

logger = logging.getLogger("integrations.simulators")

SIMULATORS: dict[str, type[Simulator]] = {
    "erp": ErpSimulator,
    "wms": WmsSimulator,
    "tms": TmsSimulator,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line options."""
    parser = argparse.ArgumentParser(prog="python -m integrations.simulators")
    parser.add_argument("name", choices=sorted(SIMULATORS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hub-url", default="http://127.0.0.1:8000")
    parser.add_argument("--connection", required=True)
    parser.add_argument("--secret", required=True, help="the hub's inbound secret")
    parser.add_argument(
        "--verify-secret", required=True, help="the secret the hub signs with"
    )
    parser.add_argument("--step-delay", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve one simulator until SIGTERM or SIGINT; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    options = Options(
        port=args.port,
        hub_url=args.hub_url,
        connection=args.connection,
        secret=args.secret,
        verify_secret=args.verify_secret,
        step_delay=args.step_delay,
        seed=args.seed,
    )
    simulator = SIMULATORS[args.name](options)
    server = simulator_server(simulator, args.port)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    simulator.start()
    # serve_forever runs on its own thread because shutdown() must be called
    # from another thread, and the main thread is where signals arrive.
    serving = threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True)
    serving.start()
    port = server.server_address[1]
    print(f"ready {args.name} http://127.0.0.1:{port}", flush=True)
    logger.info("%s simulator listening on 127.0.0.1:%s", args.name, port)

    while not stopping.wait(0.5):
        pass

    server.shutdown()
    server.server_close()
    simulator.stop()
    logger.info("%s simulator stopped", args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
