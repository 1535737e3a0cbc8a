"""Stand-in ERP, WMS and TMS servers for the demo and the tests.

Run one with::

    python -m integrations.simulators {erp|wms|tms} --port N \
        --hub-url http://127.0.0.1:8000 --connection <code> \
        --secret <hub inbound secret> --verify-secret <secret the hub signs with> \
        [--step-delay 0.2] [--seed 1]

It prints ``ready <name> http://127.0.0.1:<port>`` when listening, takes the
hub's signed deliveries on ``POST /events``, sends its own signed CloudEvents
to ``<hub-url>/integrations/inbound/<connection>/``, and offers an unsigned
control API under ``/_control/`` (``state``, ``config``, ``reset``, plus
``orders`` on the ERP and ``scenario`` on the TMS). Nothing here imports
Django: each simulator is its own process.
"""
