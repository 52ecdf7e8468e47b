"""Locust load tests for the MMED gateway: a mixed workload, a capacity finder and an overload run.

``python -m loadtest`` (``make loadtest``) drives them; ``loadtest/locustfile.py`` is the workload.
Only loopback hosts are ever targeted.
"""
